/* tool-backend.h -- where governed tools get their data, and the governance itself. */
#ifndef FL_TOOL_BACKEND_H
#define FL_TOOL_BACKEND_H

#include <cjson/cJSON.h>

#include "policy.h"
#include "tools.h"

/*
 * A backend answers the non-knowledge tools. Each call returns 0 with a
 * JSON result in *out (caller frees), or -1 with *cause (caller frees).
 * "Not found" is a result ({"found":false}), not an error.
 */
struct tool_backend {
	const char *name;
	int (*get_customer_account)(void *self, const char *customer_id, cJSON **out, char **cause);
	int (*get_order_status)(void *self, const char *customer_id, const char *order_id,
	                        cJSON **out, char **cause);
	int (*apply_standard_credit)(void *self, const char *customer_id, double amount_usd,
	                             const char *reason, cJSON **out, char **cause);
	int (*resend_confirmation)(void *self, const char *customer_id, const char *order_id,
	                           cJSON **out, char **cause);
	void (*free)(void *self);
	void *self;
};

/*
 * Backends. Each returns 0 and fills *b, or -1 with *cause.
 * - context: a ticket's "context" object ({"orders":[...],"account":{...}}) and its
 *   "customer" object, for replay; the JSON is copied.
 * - fixture: a JSON file {"customers":[{"id","name","email","tier","account":{...},
 *   "orders":[...]}...]}, shipped for the demo (file:line errors).
 * - http: URL templates with {customer_id}, {order_id}, {amount} placeholders
 *   (values URL-encoded), GET for reads and POST with a JSON body for writes, through
 *   libcurl with connect and total timeouts; the response body must be JSON.
 */
int tool_backend_context(struct tool_backend *, const cJSON *customer, const cJSON *context,
                         char **cause);
int tool_backend_fixture(struct tool_backend *, const char *path, char **cause);
struct tool_http_config {
	const char *account_url;  /* GET */
	const char *order_url;    /* GET */
	const char *credit_url;   /* POST {"customer_id","amount_usd","reason"} */
	const char *resend_url;   /* POST {"customer_id","order_id"} */
	long timeout_ms;          /* total, default 5000 */
	const char *bearer_token; /* may be NULL; never logged */
};
int tool_backend_http(struct tool_backend *, const struct tool_http_config *, char **cause);
void tool_backend_free(struct tool_backend *);

/* What a conversation has used so far, for the caps. */
struct tool_session {
	double credited_usd;
	int writes;
};

/* One governed call and its outcome; every call becomes an event. */
struct tool_call {
	int tool;    /* enum tool_id */
	cJSON *args; /* owned */
	int allowed;
	char *refusal; /* why it was refused, or NULL */
	cJSON *result; /* owned, or NULL */
};

/*
 * Runs a non-knowledge tool for customer_id under the policy's authority for
 * route: the route must be granted the tool, write tools need the policy's
 * switch, credits must be positive and within the per-credit and
 * per-conversation caps, arguments must be present and well formed. A
 * refusal is an outcome (allowed 0, refusal set), not an error. The
 * customer's words never reach this function: only the agent's plan does.
 * Fills call (tool and args must be set by the caller; args stays owned
 * by call). Returns 0, or -1 when the backend failed (call->refusal says
 * so too).
 */
int tool_invoke(const struct policy *, enum route, struct tool_session *,
                const struct tool_backend *, const char *customer_id, struct tool_call *call);
void tool_call_free(struct tool_call *);
/* {"name","args","allowed","result"} (plus "refusal" when refused); caller frees. */
cJSON *tool_call_json(const struct tool_call *);

#endif
