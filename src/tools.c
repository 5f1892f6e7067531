/* tools.c -- the governed tool registry. */
#include "config.h"

#include <string.h>

#include "tools.h"

const struct tool_def tool_table[TOOL__N] = {
    [TOOL_KNOWLEDGE_BASE_SEARCH] = {.name = "knowledge_base_search",
                                    .authority = TOOL_READ,
                                    .summary = "search the knowledge base"},
    [TOOL_GET_CUSTOMER_ACCOUNT] = {.name = "get_customer_account",
                                   .authority = TOOL_READ,
                                   .summary = "read the customer's account"},
    [TOOL_GET_ORDER_STATUS] = {.name = "get_order_status",
                               .authority = TOOL_READ,
                               .summary = "read an order's status"},
    [TOOL_APPLY_STANDARD_CREDIT] = {.name = "apply_standard_credit",
                                    .authority = TOOL_WRITE,
                                    .summary = "credit the account, within the policy's caps"},
    [TOOL_RESEND_CONFIRMATION] = {.name = "resend_confirmation",
                                  .authority = TOOL_WRITE,
                                  .summary = "resend an order confirmation email"},
};

const char *const tool_names[] = {
    "knowledge_base_search", "get_customer_account", "get_order_status",
    "apply_standard_credit", "resend_confirmation",  NULL,
};

int
tool_find(const char *name)
{
	for (int i = 0; i < TOOL__N; i++)
		if (strcmp(tool_table[i].name, name) == 0)
			return i;
	return -1;
}
