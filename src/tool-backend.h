/* tool-backend.h -- where governed tools get their data, and the governance itself. */
#ifndef FL_TOOL_BACKEND_H
#define FL_TOOL_BACKEND_H

#include <cjson/cJSON.h>

#include "loop.h"
#include "policy.h"
#include "tools.h"

/* One backend call: the tool and its checked arguments (borrowed). */
struct tool_request {
	int tool; /* enum tool_id; never the knowledge base */
	const char *customer_id;
	const char *order_id; /* get_order_status, resend_confirmation */
	double amount_usd;    /* apply_standard_credit */
	const char *reason;   /* apply_standard_credit */
};

/*
 * How a backend call ended: 0 with a JSON result in out, or -1 with
 * cause; the callee takes both.
 */
typedef void (*tool_result_fn)(int rc, cJSON *out, char *cause, void *arg);

/*
 * A backend answers the non-knowledge tools, one of two ways.
 * Synchronous backends with local data (fixture, context) fill the four
 * calls: each returns 0 with a JSON result in *out (caller frees), or -1
 * with *cause (caller frees). Asynchronous backends (http) fill start
 * and loop instead: start begins the call and done runs exactly once,
 * from loop, never inside start; start returns 0, or -1 with *cause
 * when the call cannot be made (done is not called then). Either way
 * "not found" is a result ({"found":false}), not an error.
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
	int (*start)(void *self, const struct tool_request *, tool_result_fn done, void *arg,
	             char **cause);
	struct loop *loop; /* where start's calls complete; NULL for synchronous backends */
	void (*free)(void *self);
	void *self;
};

/*
 * One call to whichever kind of backend: done runs exactly once, before
 * this returns for a synchronous backend (or a call that cannot be
 * made), from the backend's loop otherwise.
 */
void tool_backend_start(const struct tool_backend *, const struct tool_request *,
                        tool_result_fn done, void *arg);
/*
 * The same, waiting for the answer (running the backend's loop meanwhile):
 * for tests and one-shot tools, never inside the loop. Returns 0 with
 * *out, or -1 with *cause (caller frees either).
 */
int tool_backend_call(const struct tool_backend *, const struct tool_request *, cJSON **out,
                      char **cause);

/*
 * Backends. Each returns 0 and fills *b, or -1 with *cause.
 * - context: a ticket's "context" object ({"orders":[...],"account":{...}}) and its
 *   "customer" object, for replay; the JSON is copied.
 * - fixture: a JSON file {"customers":[{"id","name","email","tier","account":{...},
 *   "orders":[...]}...]}, shipped for the demo (file:line errors).
 * - http: URL templates with {customer_id}, {order_id}, {amount} placeholders
 *   (values URL-encoded), GET for reads and POST with a JSON body for writes,
 *   asynchronous over curl multi on the given loop (http.h), with connect and
 *   total timeouts; the response body must be a JSON object of at most 1 MiB.
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
	struct loop *loop;        /* the process's loop; NULL: the backend makes its own */
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

/* How a governed call ended: rc as tool_invoke returns it. */
typedef void (*tool_invoke_fn)(struct tool_call *, int rc, void *arg);

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
 *
 * tool_invoke_start is the same without waiting: everything above is
 * decided before the backend is called; done runs once the backend has
 * answered (at once for a refusal or a synchronous backend, from the
 * loop for an asynchronous one). A credit counts against the session's
 * cap from the moment it is sent, so calls in flight cannot add up past
 * it; one the backend says it did not apply is given back. session, call
 * and customer_id must stay put until done runs. tool_invoke runs the
 * backend's loop until done: not for code running inside that loop.
 */
void tool_invoke_start(const struct policy *, enum route, struct tool_session *,
                       const struct tool_backend *, const char *customer_id, struct tool_call *call,
                       tool_invoke_fn done, void *arg);
int tool_invoke(const struct policy *, enum route, struct tool_session *,
                const struct tool_backend *, const char *customer_id, struct tool_call *call);
void tool_call_free(struct tool_call *);
/* {"name","args","allowed","result"} (plus "refusal" when refused); caller frees. */
cJSON *tool_call_json(const struct tool_call *);

#endif
