/* check_settings.c -- the config file (src/settings.c): endpoint presets and their overrides. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "testutil.h"

/* Loads text as a config file; errors go to d. */
static struct settings *
load(const char *text, struct diag *d)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "config.yaml", text);
	struct settings *s = settings_load(path, 1, d);
	rm_rf(dir);
	free(path);
	free(dir);
	return s;
}

static const struct model_caps *
caps_of(const struct settings *s, const char *endpoint)
{
	const struct endpoint_settings *e = settings_endpoint(s, endpoint);
	ck_assert_msg(e != NULL, "no endpoint %s", endpoint);
	return &e->caps;
}

START_TEST(preset_selects_the_servers_caps)
{
	struct diag d = {0};
	struct settings *s = load("endpoints:\n"
	                          "  local: {base_url: \"http://127.0.0.1:8000/v1\", preset: vllm}\n"
	                          "  cpp: {base_url: \"http://127.0.0.1:8080/v1\", preset: llama.cpp}\n"
	                          "  openai: {preset: openai}\n"
	                          "  plain: {base_url: \"http://127.0.0.1:9/v1\"}\n",
	                          &d);
	char *msgs = diag_join(&d);
	ck_assert_msg(s != NULL, "%s", msgs);
	free(msgs);
	const char *names[] = {"vllm", "llama.cpp", "openai"};
	const char *eps[] = {"local", "cpp", "openai"};
	for (size_t i = 0; i < nitems(names); i++) {
		const struct model_caps *want = wire_preset_find(names[i]);
		ck_assert_ptr_nonnull(want);
		ck_assert_msg(memcmp(caps_of(s, eps[i]), want, sizeof *want) == 0,
		              "endpoint %s does not have the %s preset's caps", eps[i], names[i]);
	}
	/* The presets differ where the servers do. */
	ck_assert_int_eq(caps_of(s, "cpp")->tool_choice, 0);
	ck_assert_int_eq(caps_of(s, "cpp")->stream_usage, 0);
	ck_assert_int_eq(caps_of(s, "openai")->max_tokens_field, WIRE_MAX_COMPLETION_TOKENS);
	ck_assert_int_eq(caps_of(s, "local")->max_tokens_field, WIRE_MAX_TOKENS);
	/* No preset: the defaults, as before. */
	const struct model_caps *plain = caps_of(s, "plain");
	ck_assert_int_eq(plain->output, WIRE_OUTPUT_JSON_SCHEMA);
	ck_assert_int_eq(plain->tools, 1);
	ck_assert_int_eq(plain->tool_choice, 1);
	ck_assert_int_eq(plain->max_tokens_field, WIRE_MAX_TOKENS);
	settings_free(s);
	diag_free(&d);
}
END_TEST

START_TEST(explicit_flags_override_the_preset)
{
	struct diag d = {0};
	/* Keys in any order: the preset is the base, the flags win. */
	struct settings *s = load("endpoints:\n"
	                          "  cpp:\n"
	                          "    tool_choice: true\n"
	                          "    structured_output: json_object\n"
	                          "    preset: llama.cpp\n"
	                          "    max_tokens_field: max_completion_tokens\n"
	                          "  mini:\n"
	                          "    preset: minimal\n"
	                          "    tools: true\n",
	                          &d);
	ck_assert_ptr_nonnull(s);
	const struct model_caps *c = caps_of(s, "cpp");
	ck_assert_int_eq(c->tool_choice, 1);
	ck_assert_int_eq(c->output, WIRE_OUTPUT_JSON_OBJECT);
	ck_assert_int_eq(c->max_tokens_field, WIRE_MAX_COMPLETION_TOKENS);
	ck_assert_int_eq(c->stream_usage, 0); /* not overridden: the preset's */
	c = caps_of(s, "mini");
	ck_assert_int_eq(c->output, WIRE_OUTPUT_INSTRUCTION);
	ck_assert_int_eq(c->tools, 1);
	ck_assert_int_eq(c->tool_choice, 0); /* the preset's, not implied by tools */
	settings_free(s);
	diag_free(&d);
}
END_TEST

START_TEST(unknown_preset_is_an_error_with_its_place)
{
	struct diag d = {0};
	struct settings *s = load("endpoints:\n"
	                          "  local:\n"
	                          "    base_url: \"http://127.0.0.1:8000/v1\"\n"
	                          "    preset: vllm-nightly\n",
	                          &d);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(d.errors, 1);
	char *msgs = diag_join(&d);
	ck_assert_msg(strstr(msgs, "config.yaml:4:13: ") != NULL, "%s", msgs);
	ck_assert_msg(strstr(msgs, "'vllm-nightly'") != NULL, "%s", msgs);
	ck_assert_msg(strstr(msgs, "openai, azure, vllm, llama.cpp, ollama, minimal") != NULL, "%s",
	              msgs);
	free(msgs);
	diag_free(&d);

	s = load("endpoints:\n  local: {preset: [vllm]}\n", &d);
	ck_assert_ptr_null(s);
	diag_free(&d);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("presets");
	tcase_add_test(tc, preset_selects_the_servers_caps);
	tcase_add_test(tc, explicit_flags_override_the_preset);
	tcase_add_test(tc, unknown_preset_is_an_error_with_its_place);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
