/* tool-backend.c -- governed tools: where their data comes from, and what they may do. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "tool-backend.h"
#include "types.h"
#include "util.h"

#define HTTP_MAX_BODY   (1u << 20) /* a tool answer larger than 1 MiB is refused */
#define HTTP_DEFAULT_MS 5000L
#define HTTP_CONNECT_MS 3000L
#define MAX_ID_LEN      64
#define MAX_REASON_LEN  200

/* ------------------------------------------------ local data (context, fixture) */

/*
 * The context and fixture backends share one shape: an array of customer
 * records {"id","name","email","tier",...,"account":{...},"orders":[...]},
 * and the writes they pretend to make. Nothing real is ever touched: a write
 * is recorded here and answered as if it had been applied.
 */
struct local {
	cJSON *customers; /* array of records, owned */
	int any_id;       /* a ticket without a customer id answers for its one customer */
	cJSON *credits; /* simulated credits: [{"credit_id","customer_id","amount_usd","reason"}] */
	int ncredits;
	int nresends;
};

static const cJSON *
local_find(const struct local *l, const char *customer_id)
{
	const cJSON *c;

	if (l->any_id)
		return cJSON_GetArrayItem(l->customers, 0);
	cJSON_ArrayForEach(c, l->customers)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
		if (id != NULL && strcmp(id, customer_id) == 0)
			return c;
	}
	return NULL;
}

static const cJSON *
local_find_order(const cJSON *customer, const char *order_id)
{
	const cJSON *o;
	const cJSON *orders = cJSON_GetObjectItemCaseSensitive(customer, "orders");

	cJSON_ArrayForEach(o, orders)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
		/* Customers type order numbers in any case; ids are compared without it. */
		if (id != NULL && strcasecmp(id, order_id) == 0)
			return o;
	}
	return NULL;
}

/* What this backend has pretended to credit customer_id so far. */
static double
local_credited(const struct local *l, const char *customer_id)
{
	const cJSON *c;
	double sum = 0;

	cJSON_ArrayForEach(c, l->credits)
	{
		const char *id =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "customer_id"));
		if (id != NULL && strcmp(id, customer_id) == 0)
			sum +=
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "amount_usd"));
	}
	return sum;
}

static cJSON *
not_found(const char *key, const char *value)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddFalseToObject(r, "found");
	cJSON_AddStringToObject(r, key, value);
	return r;
}

static int
local_account(void *self, const char *customer_id, cJSON **out, char **cause)
{
	struct local *l = self;
	const cJSON *c = local_find(l, customer_id);
	const cJSON *f;

	if (c == NULL) {
		*out = not_found("customer_id", customer_id);
		return 0;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "found");
	cJSON *cust = cJSON_AddObjectToObject(r, "customer");
	cJSON_ArrayForEach(f, c)
	{
		if (strcmp(f->string, "account") != 0 && strcmp(f->string, "orders") != 0)
			cJSON_AddItemToObject(cust, f->string, cJSON_Duplicate(f, 1));
	}
	const cJSON *acct = cJSON_GetObjectItemCaseSensitive(c, "account");
	cJSON_AddItemToObject(r, "account", acct ? cJSON_Duplicate(acct, 1) : cJSON_CreateNull());
	cJSON *ids = cJSON_AddArrayToObject(r, "order_ids");
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(c, "orders"))
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "id"));
		if (id != NULL)
			cJSON_AddItemToArray(ids, cJSON_CreateString(id));
	}
	double credited = local_credited(l, customer_id);
	if (credited > 0)
		cJSON_AddNumberToObject(r, "simulated_credits_usd", credited);
	*out = r;
	return 0;
}

static int
local_order(void *self, const char *customer_id, const char *order_id, cJSON **out, char **cause)
{
	struct local *l = self;
	const cJSON *c = local_find(l, customer_id);
	const cJSON *o = c ? local_find_order(c, order_id) : NULL;

	/* Another customer's order is simply not found: nothing leaks across. */
	if (o == NULL) {
		*out = not_found("order_id", order_id);
		return 0;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "found");
	cJSON_AddItemToObject(r, "order", cJSON_Duplicate(o, 1));
	*out = r;
	return 0;
}

static int
local_credit(void *self, const char *customer_id, double amount_usd, const char *reason,
             cJSON **out, char **cause)
{
	struct local *l = self;

	if (local_find(l, customer_id) == NULL) {
		cJSON *r = not_found("customer_id", customer_id);
		cJSON_AddFalseToObject(r, "applied");
		*out = r;
		return 0;
	}
	char id[32];
	snprintf(id, sizeof id, "SIM-CR-%04d", ++l->ncredits);
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "credit_id", id);
	cJSON_AddStringToObject(rec, "customer_id", customer_id);
	cJSON_AddNumberToObject(rec, "amount_usd", amount_usd);
	cJSON_AddStringToObject(rec, "reason", reason ? reason : "");
	cJSON_AddItemToArray(l->credits, rec);

	cJSON *r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "applied");
	cJSON_AddTrueToObject(r, "simulated");
	cJSON_AddStringToObject(r, "credit_id", id);
	cJSON_AddStringToObject(r, "customer_id", customer_id);
	cJSON_AddNumberToObject(r, "amount_usd", amount_usd);
	cJSON_AddStringToObject(r, "reason", reason ? reason : "");
	cJSON_AddNumberToObject(r, "total_credited_usd", local_credited(l, customer_id));
	*out = r;
	return 0;
}

static int
local_resend(void *self, const char *customer_id, const char *order_id, cJSON **out, char **cause)
{
	struct local *l = self;
	const cJSON *c = local_find(l, customer_id);
	const cJSON *o = c ? local_find_order(c, order_id) : NULL;

	if (o == NULL) {
		cJSON *r = not_found("order_id", order_id);
		cJSON_AddFalseToObject(r, "sent");
		*out = r;
		return 0;
	}
	char id[32];
	snprintf(id, sizeof id, "SIM-RS-%04d", ++l->nresends);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "sent");
	cJSON_AddTrueToObject(r, "simulated");
	cJSON_AddStringToObject(r, "confirmation_id", id);
	cJSON_AddStringToObject(r, "order_id",
	                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id")));
	const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "email"));
	if (email != NULL)
		cJSON_AddStringToObject(r, "to", email);
	*out = r;
	return 0;
}

static void
local_free(void *self)
{
	struct local *l = self;

	if (l == NULL)
		return;
	cJSON_Delete(l->customers);
	cJSON_Delete(l->credits);
	free(l);
}

static void
local_install(struct tool_backend *b, const char *name, struct local *l)
{
	l->credits = cJSON_CreateArray();
	*b = (struct tool_backend){
	    .name = name,
	    .get_customer_account = local_account,
	    .get_order_status = local_order,
	    .apply_standard_credit = local_credit,
	    .resend_confirmation = local_resend,
	    .free = local_free,
	    .self = l,
	};
}

/* ------------------------------------------------------------ context */

/* Checks an order list; where names it in the message. */
static int
check_orders(const cJSON *orders, const char *where, char **cause)
{
	const cJSON *o;
	int i = 0;

	if (!cJSON_IsArray(orders)) {
		*cause = xasprintf("%s: 'orders' must be an array", where);
		return -1;
	}
	cJSON_ArrayForEach(o, orders)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
		if (!cJSON_IsObject(o) || id == NULL || *id == '\0') {
			*cause = xasprintf("%s: orders[%d] needs a string 'id'", where, i);
			return -1;
		}
		i++;
	}
	return 0;
}

int
tool_backend_context(struct tool_backend *b, const cJSON *customer, const cJSON *context,
                     char **cause)
{
	if (customer != NULL && !cJSON_IsNull(customer) && !cJSON_IsObject(customer)) {
		*cause = xstrdup("ticket: 'customer' must be an object");
		return -1;
	}
	if (context != NULL && !cJSON_IsNull(context) && !cJSON_IsObject(context)) {
		*cause = xstrdup("ticket: 'context' must be an object");
		return -1;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(customer, "id");
	if (id != NULL && (!cJSON_IsString(id) || *id->valuestring == '\0')) {
		*cause = xstrdup("ticket: customer 'id' must be a non-empty string");
		return -1;
	}
	const cJSON *account = cJSON_GetObjectItemCaseSensitive(context, "account");
	if (account != NULL && !cJSON_IsNull(account) && !cJSON_IsObject(account)) {
		*cause = xstrdup("ticket: context 'account' must be an object");
		return -1;
	}
	const cJSON *orders = cJSON_GetObjectItemCaseSensitive(context, "orders");
	if (orders != NULL && check_orders(orders, "ticket: context", cause) != 0)
		return -1;

	/* One record in the fixture's shape: the customer's fields, account, orders. */
	cJSON *rec = cJSON_IsObject(customer) ? cJSON_Duplicate(customer, 1) : cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "account");
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "orders");
	if (cJSON_IsObject(account))
		cJSON_AddItemToObject(rec, "account", cJSON_Duplicate(account, 1));
	cJSON_AddItemToObject(rec, "orders",
	                      orders ? cJSON_Duplicate(orders, 1) : cJSON_CreateArray());

	struct local *l = xcalloc(1, sizeof *l);
	l->customers = cJSON_CreateArray();
	cJSON_AddItemToArray(l->customers, rec);
	l->any_id = id == NULL;
	local_install(b, "context", l);
	return 0;
}

/* ------------------------------------------------------------ fixture */

/* 1-based line and column of byte offset off in text. */
static void
offset_line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i] != '\0'; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

static const char *
opt_string_ok(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return v == NULL || cJSON_IsNull(v) || cJSON_IsString(v) ? NULL : key;
}

/* Checks one customer record; returns NULL or the problem (caller frees). */
static char *
fixture_check_customer(const cJSON *c, cJSON *seen_orders)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
	const char *email = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "email"));
	const char *tier = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "tier"));
	const cJSON *account = cJSON_GetObjectItemCaseSensitive(c, "account");
	const cJSON *orders = cJSON_GetObjectItemCaseSensitive(c, "orders");
	const cJSON *o;
	int i = 0;

	if (id == NULL || *id == '\0' || strlen(id) > MAX_ID_LEN)
		return xstrdup("'id' must be a string of 1 to 64 characters");
	if (name == NULL)
		return xstrdup("'name' must be a string");
	if (email == NULL || strchr(email, '@') == NULL)
		return xstrdup("'email' must be an email address");
	if (tier == NULL || names_find(tier_names, tier) < 0)
		return xstrdup("'tier' must be one of self-serve, standard, premium, enterprise");
	if (!cJSON_IsObject(account))
		return xstrdup("'account' must be an object");
	if (!cJSON_IsArray(orders))
		return xstrdup("'orders' must be an array");
	cJSON_ArrayForEach(o, orders)
	{
		const char *oid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
		const cJSON *total = cJSON_GetObjectItemCaseSensitive(o, "total");
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
		const char *eta = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "eta"));
		const char *bad;
		long days;

		if (!cJSON_IsObject(o) || oid == NULL || *oid == '\0')
			return xasprintf("orders[%d]: 'id' must be a non-empty string", i);
		if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")) == NULL)
			return xasprintf("orders[%d] (%s): 'status' must be a string", i, oid);
		if ((bad = opt_string_ok(o, "carrier")) != NULL ||
		    (bad = opt_string_ok(o, "tracking")) != NULL ||
		    (bad = opt_string_ok(o, "eta")) != NULL)
			return xasprintf("orders[%d] (%s): '%s' must be a string or null", i, oid,
			                 bad);
		if (eta != NULL && date_parse(eta, &days) != 0)
			return xasprintf("orders[%d] (%s): 'eta' must be a YYYY-MM-DD date", i,
			                 oid);
		if (total != NULL && !cJSON_IsNumber(total))
			return xasprintf("orders[%d] (%s): 'total' must be a number", i, oid);
		if (items != NULL && !cJSON_IsArray(items))
			return xasprintf("orders[%d] (%s): 'items' must be an array", i, oid);
		const cJSON *s;
		cJSON_ArrayForEach(s, seen_orders)
		{
			if (strcasecmp(s->valuestring, oid) == 0)
				return xasprintf("orders[%d]: order '%s' appears twice in the file",
				                 i, oid);
		}
		cJSON_AddItemToArray(seen_orders, cJSON_CreateString(oid));
		i++;
	}
	return NULL;
}

int
tool_backend_fixture(struct tool_backend *b, const char *path, char **cause)
{
	size_t len;
	char *text = file_read(path, 16u << 20, &len, cause);
	const char *end = NULL;

	if (text == NULL)
		return -1;
	if (strlen(text) != len) {
		int line, col;
		offset_line_col(text, strlen(text), &line, &col);
		*cause = xasprintf("%s:%d:%d: NUL byte in a JSON file", path, line, col);
		free(text);
		return -1;
	}
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (root == NULL) {
		int line, col;
		size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0;
		offset_line_col(text, off, &line, &col);
		*cause = xasprintf("%s:%d:%d: invalid JSON", path, line, col);
		free(text);
		return -1;
	}
	free(text);

	char *why = NULL;
	int i = 0;
	const cJSON *customers = cJSON_GetObjectItemCaseSensitive(root, "customers");
	if (!cJSON_IsObject(root) || !cJSON_IsArray(customers)) {
		*cause = xasprintf("%s: expected an object with a \"customers\" array", path);
		cJSON_Delete(root);
		return -1;
	}
	cJSON *seen_orders = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach(c, customers)
	{
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
		if (!cJSON_IsObject(c))
			why = xstrdup("must be an object");
		else
			why = fixture_check_customer(c, seen_orders);
		for (const cJSON *p = customers->child; why == NULL && p != c; p = p->next) {
			const char *pid =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "id"));
			if (strcmp(pid, id) == 0)
				why = xasprintf("customer '%s' appears twice in the file", id);
		}
		if (why != NULL) {
			*cause = id ? xasprintf("%s: customers[%d] (%s): %s", path, i, id, why)
			            : xasprintf("%s: customers[%d]: %s", path, i, why);
			free(why);
			cJSON_Delete(seen_orders);
			cJSON_Delete(root);
			return -1;
		}
		i++;
	}
	cJSON_Delete(seen_orders);

	struct local *l = xcalloc(1, sizeof *l);
	l->customers = cJSON_DetachItemFromObjectCaseSensitive(root, "customers");
	cJSON_Delete(root);
	local_install(b, "fixture", l);
	return 0;
}

/* --------------------------------------------------------------- http */

/*
 * The http backend's calls are asynchronous: each is a request on the
 * process's event loop through curl multi (http.h), so a slow or dead tool
 * endpoint holds up only the conversation that called it.
 */
struct http {
	char *url[TOOL__N];   /* templates, indexed by tool */
	char *shown[TOOL__N]; /* the same for messages: no user info, no query */
	long timeout_ms;
	char *token;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	struct loop *loop;
	int own_loop;
	struct http_client *client;
};

/* One request in flight. */
struct http_call {
	struct http *h;
	int tool;
	tool_result_fn done;
	void *arg;
};

/* The placeholders a template may use, by tool. */
static const char *const placeholders[TOOL__N][3] = {
    [TOOL_GET_CUSTOMER_ACCOUNT] = {"{customer_id}"},
    [TOOL_GET_ORDER_STATUS] = {"{customer_id}", "{order_id}"},
    [TOOL_APPLY_STANDARD_CREDIT] = {"{customer_id}", "{amount}"},
    [TOOL_RESEND_CONFIRMATION] = {"{customer_id}", "{order_id}"},
};

/* tmpl shorn of user info, query and fragment: safe to print. Caller frees. */
static char *
url_for_messages(const char *tmpl)
{
	const char *sep = strstr(tmpl, "://");
	int scheme = sep != NULL ? (int)(sep + 3 - tmpl) : 0;
	const char *host = tmpl + scheme;
	size_t authority = strcspn(host, "/?#");

	for (size_t i = authority; i > 0; i--)
		if (host[i - 1] == '@') {
			host += i;
			break;
		}
	return xasprintf("%.*s%.*s", scheme, tmpl, (int)strcspn(host, "?#"), host);
}

static int
http_check_template(int tool, const char *tmpl, char **cause)
{
	const char *name = tool_table[tool].name;

	if (strncasecmp(tmpl, "http://", 7) != 0 && strncasecmp(tmpl, "https://", 8) != 0) {
		*cause =
		    xasprintf("http backend: the %s URL must start with http:// or https://", name);
		return -1;
	}
	for (const char *p = tmpl; (p = strchr(p, '{')) != NULL; p++) {
		size_t n = strcspn(p, "}");
		int known = 0;
		for (size_t i = 0; i < nitems(placeholders[tool]) && placeholders[tool][i]; i++)
			if (strncmp(p, placeholders[tool][i], strlen(placeholders[tool][i])) == 0)
				known = 1;
		if (!known) {
			*cause =
			    xasprintf("http backend: the %s URL has a placeholder %.*s it "
			              "cannot fill (it may use %s%s%s)",
			              name, (int)(n < 40 ? n + 1 : 40), p, placeholders[tool][0],
			              placeholders[tool][1] ? " and " : "",
			              placeholders[tool][1] ? placeholders[tool][1] : "");
			return -1;
		}
	}
	return 0;
}

/* Replaces each occurrence of every secret in *s by [redacted]. */
static void
scrub(char **s, const char *secret)
{
	if (secret == NULL || *secret == '\0')
		return;
	char *at;
	while ((at = strstr(*s, secret)) != NULL) {
		char *t = xasprintf("%.*s[redacted]%s", (int)(at - *s), *s, at + strlen(secret));
		free(*s);
		*s = t;
	}
}

/* Percent-encodes every byte but RFC 3986's unreserved ones (as curl_easy_escape does). */
static void
url_escape(struct buf *b, const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			buf_addc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* The template with its placeholders replaced by URL-encoded values; caller frees. */
static char *
http_expand(const char *tmpl, const char *customer_id, const char *order_id, const char *amount)
{
	const char *keys[] = {"{customer_id}", "{order_id}", "{amount}"};
	const char *vals[] = {customer_id, order_id, amount};
	struct buf b;

	buf_init(&b, 0);
	for (const char *p = tmpl; *p != '\0';) {
		size_t k;
		for (k = 0; k < nitems(keys); k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0)
				break;
		if (k == nitems(keys)) {
			buf_addc(&b, *p++);
			continue;
		}
		url_escape(&b, vals[k] ? vals[k] : "");
		p += strlen(keys[k]);
	}
	char *url = buf_steal(&b);
	buf_free(&b); /* buf_steal leaves a fresh empty buffer behind */
	return url;
}

/*
 * A request ended. The cause names the tool, the status or the transfer's
 * error and the URL template without user info or query, never the token.
 */
static void
http_answered(const struct http_result *r, void *arg)
{
	struct http_call *k = arg;
	struct http *h = k->h;
	const char *name = tool_table[k->tool].name;
	const char *shown = h->shown[k->tool];
	cJSON *out = NULL;
	char *cause = NULL;

	if (r->error == HTTP_ETOOBIG)
		cause = xasprintf("%s: the answer from %s is larger than %u bytes", name, shown,
		                  HTTP_MAX_BODY);
	else if (r->error != HTTP_OK)
		cause = xasprintf("%s: %s: %s", name, shown, r->message);
	else if (r->status < 200 || r->status >= 300)
		cause = xasprintf("%s: HTTP %ld from %s", name, r->status, shown);
	else if (strlen(r->body) != r->len ||
	         (out = cJSON_ParseWithOpts(r->body, NULL, 1)) == NULL || !cJSON_IsObject(out)) {
		cJSON_Delete(out);
		out = NULL;
		cause = xasprintf("%s: HTTP %ld from %s but the body is not a JSON object", name,
		                  r->status, shown);
	}
	if (cause != NULL)
		scrub(&cause, h->token);
	tool_result_fn done = k->done;
	void *darg = k->arg;
	free(k);
	done(cause ? -1 : 0, out, cause, darg);
}

/* Starts one request: GET for reads, POST of a JSON body for writes. */
static int
http_start_call(void *self, const struct tool_request *rq, tool_result_fn done, void *arg,
                char **cause)
{
	struct http *h = self;
	int tool = rq->tool;

	if (tool < 0 || tool >= TOOL__N || tool == TOOL_KNOWLEDGE_BASE_SEARCH) {
		*cause = xstrdup("http backend: not a backend tool");
		return -1;
	}
	const char *name = tool_table[tool].name;
	if (h->url[tool] == NULL) {
		*cause = xasprintf("%s: the http backend has no URL for this tool", name);
		return -1;
	}
	char amount[64] = "";
	cJSON *body = NULL;
	if (tool == TOOL_APPLY_STANDARD_CREDIT) {
		snprintf(amount, sizeof amount, "%.2f", rq->amount_usd);
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "customer_id", rq->customer_id);
		cJSON_AddNumberToObject(body, "amount_usd", rq->amount_usd);
		cJSON_AddStringToObject(body, "reason", rq->reason ? rq->reason : "");
	} else if (tool == TOOL_RESEND_CONFIRMATION) {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "customer_id", rq->customer_id);
		cJSON_AddStringToObject(body, "order_id", rq->order_id ? rq->order_id : "");
	}
	char *url = http_expand(h->url[tool], rq->customer_id, rq->order_id, amount);
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	const char *headers[4];
	size_t nh = 0;
	headers[nh++] = "Accept: application/json";
	if (json != NULL)
		headers[nh++] = "Content-Type: application/json";
	if (h->auth != NULL)
		headers[nh++] = h->auth;
	headers[nh] = NULL;
	struct http_request hr = {
	    .method = json ? "POST" : "GET",
	    .url = url,
	    .headers = headers,
	    .body = json,
	    .body_len = json ? strlen(json) : 0,
	    .connect_timeout_ms = h->timeout_ms < HTTP_CONNECT_MS ? h->timeout_ms : HTTP_CONNECT_MS,
	    .total_timeout_ms = h->timeout_ms,
	    .max_body = HTTP_MAX_BODY,
	};
	struct http_call *k = xcalloc(1, sizeof *k);
	*k = (struct http_call){.h = h, .tool = tool, .done = done, .arg = arg};
	char *why = NULL;
	uint64_t id = http_start(h->client, &hr, http_answered, k, &why);
	cJSON_free(json);
	free(url);
	if (id == 0) {
		free(k);
		*cause = xasprintf("%s: %s: %s", name, h->shown[tool], why);
		free(why);
		scrub(cause, h->token);
		return -1;
	}
	return 0;
}

static void
http_free(void *self)
{
	struct http *h = self;

	if (h == NULL)
		return;
	/* Calls still in flight end now, as cancelled. */
	http_client_free(h->client);
	if (h->own_loop)
		loop_free(h->loop);
	for (int i = 0; i < TOOL__N; i++) {
		free(h->url[i]);
		free(h->shown[i]);
	}
	if (h->token != NULL) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	if (h->auth != NULL) {
		explicit_bzero(h->auth, strlen(h->auth));
		free(h->auth);
	}
	free(h);
}

int
tool_backend_http(struct tool_backend *b, const struct tool_http_config *cfg, char **cause)
{
	const char *urls[TOOL__N] = {
	    [TOOL_GET_CUSTOMER_ACCOUNT] = cfg->account_url,
	    [TOOL_GET_ORDER_STATUS] = cfg->order_url,
	    [TOOL_APPLY_STANDARD_CREDIT] = cfg->credit_url,
	    [TOOL_RESEND_CONFIRMATION] = cfg->resend_url,
	};

	for (int i = 0; i < TOOL__N; i++)
		if (urls[i] != NULL && http_check_template(i, urls[i], cause) != 0)
			return -1;
	if (cfg->bearer_token != NULL && strpbrk(cfg->bearer_token, "\r\n") != NULL) {
		*cause = xstrdup("http backend: the bearer token contains a line break");
		return -1;
	}
	struct http *h = xcalloc(1, sizeof *h);
	h->loop = cfg->loop;
	if (h->loop == NULL) {
		h->loop = loop_new();
		h->own_loop = 1;
	}
	char *why = NULL;
	if ((h->client = http_client_new(h->loop, &why)) == NULL) {
		*cause = xasprintf("http backend: %s", why);
		free(why);
		if (h->own_loop)
			loop_free(h->loop);
		free(h);
		return -1;
	}
	for (int i = 0; i < TOOL__N; i++) {
		if (urls[i] == NULL)
			continue;
		h->url[i] = xstrdup(urls[i]);
		h->shown[i] = url_for_messages(urls[i]);
	}
	h->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : HTTP_DEFAULT_MS;
	if (cfg->bearer_token != NULL && *cfg->bearer_token != '\0') {
		h->token = xstrdup(cfg->bearer_token);
		h->auth = xasprintf("Authorization: Bearer %s", h->token);
	}
	*b = (struct tool_backend){
	    .name = "http",
	    .start = http_start_call,
	    .loop = h->loop,
	    .free = http_free,
	    .self = h,
	};
	return 0;
}

/* ------------------------------------------------------ either kind */

void
tool_backend_start(const struct tool_backend *b, const struct tool_request *rq, tool_result_fn done,
                   void *arg)
{
	cJSON *out = NULL;
	char *cause = NULL;
	int rc = -1;
	const char *name =
	    rq->tool >= 0 && rq->tool < TOOL__N ? tool_table[rq->tool].name : "unknown tool";

	if (b->start != NULL) {
		if (b->start(b->self, rq, done, arg, &cause) == 0)
			return;
		done(-1, NULL, cause, arg);
		return;
	}
	if (rq->tool == TOOL_GET_CUSTOMER_ACCOUNT && b->get_customer_account)
		rc = b->get_customer_account(b->self, rq->customer_id, &out, &cause);
	else if (rq->tool == TOOL_GET_ORDER_STATUS && b->get_order_status)
		rc = b->get_order_status(b->self, rq->customer_id, rq->order_id, &out, &cause);
	else if (rq->tool == TOOL_APPLY_STANDARD_CREDIT && b->apply_standard_credit)
		rc = b->apply_standard_credit(b->self, rq->customer_id, rq->amount_usd, rq->reason,
		                              &out, &cause);
	else if (rq->tool == TOOL_RESEND_CONFIRMATION && b->resend_confirmation)
		rc = b->resend_confirmation(b->self, rq->customer_id, rq->order_id, &out, &cause);
	else
		cause = xasprintf("the %s backend does not provide %s", b->name, name);
	if (rc != 0) {
		cJSON_Delete(out);
		out = NULL;
	}
	done(rc, out, cause, arg);
}

struct call_wait {
	int done, rc;
	cJSON *out;
	char *cause;
};

static void
call_waited(int rc, cJSON *out, char *cause, void *arg)
{
	struct call_wait *w = arg;
	w->done = 1;
	w->rc = rc;
	w->out = out;
	w->cause = cause;
}

int
tool_backend_call(const struct tool_backend *b, const struct tool_request *rq, cJSON **out,
                  char **cause)
{
	struct call_wait w = {0};
	tool_backend_start(b, rq, call_waited, &w);
	while (!w.done)
		loop_once(b->loop, -1);
	*out = w.out;
	if (w.rc != 0) {
		cJSON_Delete(w.out);
		*out = NULL;
		*cause = w.cause ? w.cause : xstrdup("the backend failed");
		return -1;
	}
	free(w.cause);
	return 0;
}

void
tool_backend_free(struct tool_backend *b)
{
	if (b == NULL)
		return;
	if (b->free != NULL)
		b->free(b->self);
	memset(b, 0, sizeof *b);
}

/* --------------------------------------------------------- governance */

static int refuse(struct tool_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct tool_call *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call->refusal = xvasprintf(fmt, ap);
	va_end(ap);
	call->allowed = 0;
	return 0;
}

/* An identifier we are willing to hand to a backend: printable, short. */
static int
id_plausible(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_ID_LEN)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * An order id: letters, digits, '-' and '_', and, when the policy says what
 * order numbers look like (entities.order_number), that whole pattern.
 */
static int
order_id_plausible(const struct policy *p, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (const char *c = s; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return 0;
	if (p->order_number_re == NULL)
		return 1;
	regex_t re;
	char *whole = xasprintf("^(%s)$", p->order_number_re);
	int ok = 1;
	if (regcomp(&re, whole, REG_EXTENDED | REG_NOSUB) == 0) {
		ok = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
	}
	free(whole);
	return ok;
}

static long long
cents(double usd)
{
	return llround(usd * 100);
}

/*
 * The governance: authority, then the arguments. Returns 1 with the
 * backend's request in *rq (its strings point into call->args), or 0
 * with the call refused.
 */
static int
tool_check(const struct policy *p, enum route route, struct tool_session *session,
           const char *customer_id, struct tool_call *call, struct tool_request *rq)
{
	const cJSON *args = call->args;
	const char *order_id = NULL;
	const char *reason = NULL;
	double amount = 0;

	call->allowed = 0;
	call->refusal = NULL;
	call->result = NULL;

	/* Authority first: which tool, on which route, under which switch. */
	if (call->tool < 0 || call->tool >= TOOL__N)
		return refuse(call, "unknown tool");
	const char *name = tool_table[call->tool].name;
	if (call->tool == TOOL_KNOWLEDGE_BASE_SEARCH)
		return refuse(call, "%s is answered by the knowledge service, not by a backend",
		              name);
	if ((unsigned)route >= ROUTE__N)
		return refuse(call, "unknown route");
	if ((p->route_tools[route] & (1u << call->tool)) == 0)
		return refuse(call, "the policy does not grant %s to route %s", name,
		              route_names[route]);
	int write = tool_table[call->tool].authority == TOOL_WRITE;
	if (write && !p->write_tools_enabled)
		return refuse(call, "write tools are disabled by policy");
	if (write && session == NULL)
		return refuse(call, "%s needs a conversation to count against", name);

	/* Then the arguments: the agent's plan, checked as untrusted. */
	if (customer_id == NULL || *customer_id == '\0')
		return refuse(call, "no customer_id: %s needs an identified customer", name);
	if (!id_plausible(customer_id))
		return refuse(call, "customer_id is not a plausible customer id");
	if (args != NULL && !cJSON_IsNull(args) && !cJSON_IsObject(args))
		return refuse(call, "%s: arguments must be a JSON object", name);
	const cJSON *acid = cJSON_GetObjectItemCaseSensitive(args, "customer_id");
	if (acid != NULL && (!cJSON_IsString(acid) || strcmp(acid->valuestring, customer_id) != 0))
		return refuse(call,
		              "%s: customer_id in the arguments is not this conversation's "
		              "customer",
		              name);
	if (call->tool == TOOL_GET_ORDER_STATUS || call->tool == TOOL_RESEND_CONFIRMATION) {
		order_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "order_id"));
		if (order_id == NULL || *order_id == '\0')
			return refuse(call, "%s: order_id is missing", name);
		if (!order_id_plausible(p, order_id))
			return refuse(call, "%s: order_id is not a plausible order number", name);
	}
	if (call->tool == TOOL_APPLY_STANDARD_CREDIT) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, "amount_usd");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(args, "reason");
		if (a == NULL)
			return refuse(call, "%s: amount_usd is missing", name);
		if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble))
			return refuse(call, "%s: amount_usd must be a number", name);
		if (a->valuedouble > 1e9) /* over any cap, and too big to count in cents */
			return refuse(call,
			              "%s: $%.2f is over the policy's cap of $%.2f per credit",
			              name, a->valuedouble, p->credit_max_per_credit);
		/* Money is counted in cents, so that 0.1 + 0.2 is exactly 0.3. */
		long long c = cents(a->valuedouble);
		if (!(a->valuedouble > 0) || c <= 0)
			return refuse(call, "%s: amount_usd must be positive", name);
		if (c > cents(p->credit_max_per_credit))
			return refuse(call,
			              "%s: $%.2f is over the policy's cap of $%.2f per credit",
			              name, a->valuedouble, p->credit_max_per_credit);
		long long used = cents(session->credited_usd);
		if (used + c > cents(p->credit_max_per_conversation))
			return refuse(call,
			              "%s: $%.2f would bring this conversation's credits to $%.2f, "
			              "over the policy's cap of $%.2f per conversation",
			              name, c / 100.0, (used + c) / 100.0,
			              p->credit_max_per_conversation);
		if (r != NULL && !cJSON_IsNull(r) &&
		    (!cJSON_IsString(r) || strlen(r->valuestring) > MAX_REASON_LEN))
			return refuse(call, "%s: reason must be a string of at most %d characters",
			              name, MAX_REASON_LEN);
		amount = c / 100.0;
		reason = cJSON_IsString(r) && *r->valuestring ? r->valuestring : "standard credit";
	}

	*rq = (struct tool_request){.tool = call->tool,
	                            .customer_id = customer_id,
	                            .order_id = order_id,
	                            .amount_usd = amount,
	                            .reason = reason};
	return 1;
}

/* A call on its way to the backend. */
struct invocation {
	struct tool_call *call;
	struct tool_session *session;
	const char *backend;
	int write, credit;
	double amount;
	tool_invoke_fn done;
	void *arg;
};

static void
invoked(int rc, cJSON *out, char *cause, void *arg)
{
	struct invocation *v = arg;
	struct tool_call *call = v->call;
	if (rc == 0 && out == NULL) {
		rc = -1;
		free(cause);
		cause = xasprintf("the %s backend returned no result", v->backend);
	}
	/*
	 * A credit was counted when it was sent: a failed call may still have
	 * credited (a timeout after the server acted), and a retry must not take
	 * the conversation over its cap. Only the backend saying it did not
	 * apply gives it back.
	 */
	if (v->credit && rc == 0 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(out, "applied")))
		v->session->credited_usd =
		    (cents(v->session->credited_usd) - cents(v->amount)) / 100.0;
	if (rc != 0) {
		call->refusal = xasprintf("backend error: %s", cause ? cause : "unknown failure");
		cJSON_Delete(out);
	} else {
		if (v->write)
			v->session->writes++;
		call->result = out;
	}
	free(cause);
	tool_invoke_fn done = v->done;
	void *darg = v->arg;
	free(v);
	done(call, rc != 0 ? -1 : 0, darg);
}

/* Whether the backend can answer the tool at all. */
static int
provides(const struct tool_backend *b, int tool)
{
	if (b->start != NULL)
		return 1;
	switch (tool) {
	case TOOL_GET_CUSTOMER_ACCOUNT:
		return b->get_customer_account != NULL;
	case TOOL_GET_ORDER_STATUS:
		return b->get_order_status != NULL;
	case TOOL_APPLY_STANDARD_CREDIT:
		return b->apply_standard_credit != NULL;
	case TOOL_RESEND_CONFIRMATION:
		return b->resend_confirmation != NULL;
	default:
		return 0;
	}
}

void
tool_invoke_start(const struct policy *p, enum route route, struct tool_session *session,
                  const struct tool_backend *b, const char *customer_id, struct tool_call *call,
                  tool_invoke_fn done, void *arg)
{
	struct tool_request rq;

	call->allowed = 0;
	call->refusal = NULL;
	call->result = NULL;
	if (!tool_check(p, route, session, customer_id, call, &rq)) {
		done(call, 0, arg);
		return;
	}

	/* Allowed: the backend answers. */
	call->allowed = 1;
	const char *name = tool_table[call->tool].name;
	if (b == NULL || !provides(b, call->tool)) {
		call->refusal = b == NULL
		                    ? xstrdup("backend error: no backend")
		                    : xasprintf("backend error: the %s backend does not provide %s",
		                                b->name, name);
		done(call, -1, arg);
		return;
	}
	struct invocation *v = xcalloc(1, sizeof *v);
	*v = (struct invocation){.call = call,
	                         .session = session,
	                         .backend = b->name,
	                         .write = tool_table[call->tool].authority == TOOL_WRITE,
	                         .credit = call->tool == TOOL_APPLY_STANDARD_CREDIT,
	                         .amount = rq.amount_usd,
	                         .done = done,
	                         .arg = arg};
	if (v->credit)
		session->credited_usd =
		    (cents(session->credited_usd) + cents(rq.amount_usd)) / 100.0;
	tool_backend_start(b, &rq, invoked, v);
}

struct invoke_wait {
	int done, rc;
};

static void
invoke_waited(struct tool_call *call, int rc, void *arg)
{
	(void)call;
	struct invoke_wait *w = arg;
	w->done = 1;
	w->rc = rc;
}

int
tool_invoke(const struct policy *p, enum route route, struct tool_session *session,
            const struct tool_backend *b, const char *customer_id, struct tool_call *call)
{
	struct invoke_wait w = {0};
	tool_invoke_start(p, route, session, b, customer_id, call, invoke_waited, &w);
	while (!w.done)
		loop_once(b->loop, -1);
	return w.rc;
}

void
tool_call_free(struct tool_call *call)
{
	if (call == NULL)
		return;
	cJSON_Delete(call->args);
	cJSON_Delete(call->result);
	free(call->refusal);
	call->args = NULL;
	call->result = NULL;
	call->refusal = NULL;
}

cJSON *
tool_call_json(const struct tool_call *call)
{
	cJSON *j = cJSON_CreateObject();
	int known = call->tool >= 0 && call->tool < TOOL__N;

	cJSON_AddStringToObject(j, "name", known ? tool_table[call->tool].name : "unknown");
	cJSON_AddItemToObject(j, "args",
	                      call->args ? cJSON_Duplicate(call->args, 1) : cJSON_CreateObject());
	cJSON_AddBoolToObject(j, "allowed", call->allowed);
	cJSON_AddItemToObject(j, "result",
	                      call->result ? cJSON_Duplicate(call->result, 1) : cJSON_CreateNull());
	if (call->refusal != NULL)
		cJSON_AddStringToObject(j, "refusal", call->refusal);
	return j;
}
