/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the module plan parser (modplan_parse()) and lookups
 * in whatever it accepted. The plan is read at boot from the
 * mini-initramfs: a damaged one must be refused, never overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/modplan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_module(uint32_t module, void *data)
{
	const struct modplan *plan = data;

	if (module >= plan->n_modules)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modplan plan;
	unsigned line;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (modplan_parse(&plan, text, size, &line) == 0) {
		for (size_t i = 0; i < plan.n_modules; i++) {
			const struct modplan_module *m = &plan.modules[i];

			if ((size_t)m->order_start + m->order_len > plan.n_order)
				abort();
			for (uint32_t j = 0; j < m->order_len; j++)
				if ((plan.order[m->order_start + j] & ~MODPLAN_OPTIONAL) >=
				    plan.n_modules)
					abort();
			if (modplan_find_module(&plan, m->name) != (long)i)
				abort();
			modplan_lookup(&plan, m->name, check_module, &plan);
		}
		for (size_t i = 0; i < plan.n_aliases; i++)
			modplan_lookup(&plan, plan.aliases[i].pattern, check_module, &plan);
		modplan_lookup(&plan, "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",
			       check_module, &plan);
	}
	modplan_free(&plan);
	return 0;
}
