/* customer-http.h -- frontline customer over HTTP: a bridge from the line protocol to frontline
 * serve. */
#ifndef FL_CUSTOMER_HTTP_H
#define FL_CUSTOMER_HTTP_H

#include "loop.h"

/*
 * frontline customer speaks frontline-protocol(7) to a console's socket.
 * With --url it speaks the same lines to this bridge instead, over one end
 * of a socketpair, and the bridge turns them into frontline-http(7)
 * requests on the same loop: hello opens (or resumes) the customer's
 * conversation and its event stream, say posts a message (in order, one at
 * a time; a closed conversation is followed by a new one, as the console
 * does), rate posts a rating, bye ends it once what was sent is
 * acknowledged. Replies and state changes from the event stream come back
 * as message and state lines; failures as error lines. The stream is
 * reopened after Last-Event-ID when it drops.
 */
struct customer_http;

/*
 * Starts the bridge to the serve at url (http:// or https://, the API's
 * base, e.g. http://127.0.0.1:8080) with token. Returns the customer's
 * end of the socketpair (the caller closes it) and *out, or -1 with
 * *cause (caller frees).
 */
int customer_http_open(struct loop *, const char *url, const char *token,
                       struct customer_http **out, char **cause);
/*
 * Lets requests still in flight (a rating sent with bye) finish, turning
 * the loop for at most ms, then frees the bridge. NULL is ignored.
 */
void customer_http_close(struct customer_http *, long ms);

#endif
