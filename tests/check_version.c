/* check_version.c -- the agent version (src/version.c): a content hash of what the agents are. */
#include "config.h"

#include <string.h>

#include "testutil.h"
#include "version.h"

static struct policy pol_a, pol_b;
static struct tool_backend fixture = {.name = "fixture"}, context = {.name = "context"};

static void
agents_on(struct agents *ag, struct policy *p, struct tool_backend *tb)
{
	memset(ag, 0, sizeof *ag);
	ag->policy = p;
	ag->tools = tb;
}

START_TEST(equal_agents_have_equal_versions)
{
	struct agents a, b;
	char va[13], vb[13];
	strcpy(pol_a.hash, "aaaa");
	agents_on(&a, &pol_a, &fixture);
	agents_on(&b, &pol_a, &fixture);
	agents_version(&a, va);
	agents_version(&b, vb);
	ck_assert_str_eq(va, vb);
	ck_assert_uint_eq(strlen(va), 12);
	ck_assert_uint_eq(strspn(va, "0123456789abcdef"), 12);

	cJSON *j = agents_version_json(&a);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "version")), va);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "policy")), "aaaa");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "tools")), "fixture");
	cJSON *tr = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "agents"), "triage");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(tr, "backend")), "offline");
	cJSON_Delete(j);
}
END_TEST

START_TEST(a_policy_or_tool_change_is_a_new_version)
{
	struct agents a;
	char v1[13], v2[13], v3[13];
	strcpy(pol_a.hash, "aaaa");
	strcpy(pol_b.hash, "bbbb");
	agents_on(&a, &pol_a, &fixture);
	agents_version(&a, v1);
	a.policy = &pol_b;
	agents_version(&a, v2);
	ck_assert_str_ne(v1, v2);
	a.policy = &pol_a;
	a.tools = &context;
	agents_version(&a, v3);
	ck_assert_str_ne(v1, v3);
	ck_assert_str_ne(v2, v3);
}
END_TEST

START_TEST(a_backend_without_a_client_stays_offline)
{
	/* Configured for a model but no client was made: the offline engine answers. */
	struct agents a;
	char v1[13], v2[13];
	strcpy(pol_a.hash, "aaaa");
	agents_on(&a, &pol_a, &fixture);
	agents_version(&a, v1);
	a.backend[AGENT_RESOLUTION] = BACKEND_OPENAI;
	agents_version(&a, v2);
	ck_assert_str_eq(v1, v2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("hash");
	tcase_add_test(tc, equal_agents_have_equal_versions);
	tcase_add_test(tc, a_policy_or_tool_change_is_a_new_version);
	tcase_add_test(tc, a_backend_without_a_client_stays_offline);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
