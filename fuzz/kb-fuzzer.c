/* kb-fuzzer.c -- the knowledge base's fact parser (front matter and body) on any text. */
#include "config.h"

#include "diag.h"
#include "fuzz.h"
#include "kb.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct diag d = {0};
	struct kb_facts facts = {0};
	int rc = kb_parse_file("fuzz/fact.md", text, size, &facts, &d);
	/* a file with errors adds no facts */
	if ((rc != 0 || d.errors > 0) && facts.n != 0)
		abort();
	kb_facts_free(&facts);
	diag_free(&d);
	free(text);
	return 0;
}
