/* ticket-fuzzer.c -- one line of a ticket file (JSON Lines), as replay reads it. */
#include "config.h"

#include "fuzz.h"
#include "replay.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_text(data, size);
	struct ticket t;
	char *cause = NULL;
	memset(&t, 0, sizeof t);
	if (ticket_parse(line, size, &t, &cause) == 0) {
		/* what replay relies on: an id and at least one customer message */
		if (t.id == NULL || t.messages == NULL || t.customer_messages < 1 || cause != NULL)
			abort();
		ticket_free(&t);
	} else if (cause == NULL)
		abort(); /* a refusal says why */
	free(cause);
	free(line);
	return 0;
}
