# shellcheck shell=bash
# The working tree as a fresh clone would have it (sourced by the tiers
# that build from a copy of the tree).
#
#   tree_files        the files a fresh clone would have once committed
#                     (tracked, and new files not ignored), NUL-separated,
#                     relative to $TOP; files deleted in the working tree
#                     are left out
#   tree_hash         sha256 of those files' names and contents

tree_files() {
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard) |
		while IFS= read -r -d '' f; do
			if [ -e "$TOP/$f" ] || [ -L "$TOP/$f" ]; then
				printf '%s\0' "$f"
			fi
		done
}

tree_hash() {
	tree_files | LC_ALL=C sort -z | (cd "$TOP" && xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}
