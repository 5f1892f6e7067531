/* tools.h -- the governed tool registry: names and authority levels. */
#ifndef FL_TOOLS_H
#define FL_TOOLS_H

enum tool_authority { TOOL_READ, TOOL_WRITE };

struct tool_def {
	const char *name;
	enum tool_authority authority;
	const char *summary;
};

enum tool_id {
	TOOL_KNOWLEDGE_BASE_SEARCH,
	TOOL_GET_CUSTOMER_ACCOUNT,
	TOOL_GET_ORDER_STATUS,
	TOOL_APPLY_STANDARD_CREDIT,
	TOOL_RESEND_CONFIRMATION,
	TOOL__N
};

/* Indexed by enum tool_id. */
extern const struct tool_def tool_table[TOOL__N];
/* NULL-terminated list of tool names, for schema checks. */
extern const char *const tool_names[];

int tool_find(const char *name);

#endif
