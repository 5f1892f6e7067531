/* policy-fuzzer.c -- the policy loader (YAML, its keys and their values) on any text. */
#include "config.h"

#include "diag.h"
#include "fuzz.h"
#include "policy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct diag d = {0};
	struct policy *p = policy_load_text("fuzz.yaml", text, size, &d);
	/* a policy is refused with at least one error, and loaded with none */
	if ((p == NULL) != (d.errors > 0))
		abort();
	policy_free(p);
	diag_free(&d);
	free(text);
	return 0;
}
