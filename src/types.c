/* types.c -- names of the shared value sets. */
#include "config.h"

#include <string.h>

#include "types.h"

const char *const category_names[] = {"billing", "technical", "account", "shipping",
                                      "returns", "general",   NULL};
const char *const urgency_names[] = {"critical", "high", "normal", "low", NULL};
const char *const sentiment_names[] = {"frustrated", "neutral", "positive", NULL};
const char *const complexity_names[] = {"simple", "moderate", "complex", "unknown", NULL};
const char *const tier_names[] = {"self-serve", "standard", "premium", "enterprise", NULL};
const char *const route_names[] = {"human-queue-priority", "human-queue-standard",
                                   "resolution-agent-authenticated", "resolution-agent-general",
                                   NULL};
const char *const topic_names[] = {"billing", "technical", "account", "shipping", "returns",
                                   "general", "policy",    "pricing", "product",  NULL};

int
names_find(const char *const *table, const char *name)
{
	for (int i = 0; table[i] != NULL; i++)
		if (strcmp(table[i], name) == 0)
			return i;
	return -1;
}
