/* check_urgency.c -- urgency rules: the format, the shipped rules, any input (src/urgency.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "urgency.h"

static struct urgency_rules *shipped;

static void
load_shipped(void)
{
	char *path = srcpath("data/triage/urgency.rules");
	char *cause = NULL;
	shipped = urgency_load(path, &cause);
	ck_assert_msg(shipped != NULL, "%s", cause ? cause : "?");
	free(path);
}

static void
free_shipped(void)
{
	urgency_free(shipped);
	shipped = NULL;
}

/* Checks the level and the deciding rule (NULL: none) of text. */
static void
ck_urgency_at(const char *file, int line, const struct urgency_rules *r, const char *text,
              enum urgency want, const char *want_rule)
{
	const char *why = "unset";
	enum urgency got = urgency_classify(r, text, &why);
	ck_assert_msg(got == want, "%s:%d: '%s': got %s (%s), expected %s", file, line, text,
	              urgency_names[got], why ? why : "no rule", urgency_names[want]);
	if (want_rule == NULL)
		ck_assert_msg(why == NULL, "%s:%d: '%s': rule %s, expected none", file, line, text,
		              why);
	else
		ck_assert_msg(why != NULL && strcmp(why, want_rule) == 0,
		              "%s:%d: '%s': rule %s, expected %s", file, line, text,
		              why ? why : "none", want_rule);
}

#define ck_urgency(text, want, rule) ck_urgency_at(__FILE__, __LINE__, shipped, text, want, rule)

/* ---------------------------------------------------- shipped: critical */

START_TEST(critical_security_and_takeover)
{
	ck_urgency("I think my account was hacked, there are orders I don't recognise",
	           URG_CRITICAL, "account-takeover");
	ck_urgency("Someone else logged into my account last night and changed my email",
	           URG_CRITICAL, "account-takeover");
	ck_urgency("I got an alert about a suspicious login from another country", URG_CRITICAL,
	           "account-takeover");
	ck_urgency("There was unauthorised access to my Acme account", URG_CRITICAL,
	           "account-takeover");
	ck_urgency("I keep getting 2FA codes I didn't request", URG_CRITICAL, "security-breach");
	ck_urgency("There is a voice coming from my camera at night!", URG_CRITICAL,
	           "security-breach");
	ck_urgency("Was my data leaked in the data breach I read about?", URG_CRITICAL,
	           "security-breach");
}
END_TEST

START_TEST(critical_fraud)
{
	ck_urgency("There are charges I didn't make on my statement", URG_CRITICAL, "fraud");
	ck_urgency("This is fraudulent, my card was stolen and used on your site", URG_CRITICAL,
	           "fraud");
	ck_urgency("I see an unauthorized transaction of $499 from Acme", URG_CRITICAL, "fraud");
	ck_urgency("I was scammed by someone pretending to be Acme support", URG_CRITICAL, "fraud");
}
END_TEST

START_TEST(critical_outage_and_business)
{
	ck_urgency("All my devices are offline since this morning", URG_CRITICAL, "outage");
	ck_urgency("Your app is down and nobody can log in", URG_CRITICAL, "outage");
	ck_urgency("We run a store and the cameras going offline is costing us money", URG_CRITICAL,
	           "business-impact");
	ck_urgency("We're losing customers because the smart locks at all our locations fail",
	           URG_CRITICAL, "business-impact");
}
END_TEST

START_TEST(critical_safety_and_home)
{
	ck_urgency("The hub is overheating and I smell something burning", URG_CRITICAL, "safety");
	ck_urgency("My thermostat started sparking and there was smoke", URG_CRITICAL, "safety");
	ck_urgency("The doorbell battery is swollen, is it dangerous?", URG_CRITICAL, "safety");
	ck_urgency("My smart lock unlocked by itself while we were away", URG_CRITICAL,
	           "home-security");
	ck_urgency("The lock won't open and I'm locked out of my house with the kids", URG_CRITICAL,
	           "home-security");
}
END_TEST

/* -------------------------------------------------------- shipped: high */

START_TEST(high_locked_out_and_charges)
{
	ck_urgency("I can't log in, the password reset email never arrives", URG_HIGH,
	           "locked-out");
	ck_urgency("I cant sign in to the app", URG_HIGH, "locked-out");
	ck_urgency("I can\xe2\x80\x99t log-in since the update", URG_HIGH, "locked-out");
	ck_urgency("My account is locked after too many attempts", URG_HIGH, "locked-out");
	ck_urgency("I was charged twice for my order A12345", URG_HIGH, "wrong-charge");
	ck_urgency("I was charged $129.99 twice for order A12345, reach me at dana@example.com "
	           "or +1 (555) 010-0142",
	           URG_HIGH, "wrong-charge");
	ck_urgency("They billed \xe2\x82\xac"
	           "1,299.00 twice",
	           URG_HIGH, "wrong-charge");
	ck_urgency("I was not charged $5 twice", URG_NORMAL, NULL);
	ck_urgency("You double-charged me for the Protect Plus plan", URG_HIGH, "wrong-charge");
	ck_urgency("I'm still being charged after I cancelled", URG_HIGH, "wrong-charge");
	ck_urgency("I returned the cam three weeks ago and still haven't got my refund. Where "
	           "is my refund?",
	           URG_HIGH, "refund-missing");
}
END_TEST

START_TEST(high_deadline_and_unresolved)
{
	ck_urgency("URGENT: need the doorbell installed before the weekend", URG_HIGH, "deadline");
	ck_urgency("Please send a replacement asap", URG_HIGH, "deadline");
	ck_urgency("It's a gift and I need it by Friday", URG_HIGH, "deadline");
	ck_urgency("This is the third time I'm writing about this", URG_HIGH, "unresolved");
}
END_TEST

/* ---------------------------------------------------- shipped: low, normal */

START_TEST(low_ideas_questions_compliments)
{
	ck_urgency("Feature request: a dark mode for the app would be nice", URG_LOW,
	           "feature-idea");
	ck_urgency("Just wondering if the outdoor cam works in snow", URG_LOW, "general-question");
	ck_urgency("Is the hub compatible with Alexa? Thinking of buying one.", URG_LOW,
	           "general-question");
	ck_urgency("I love my new doorbell, great product!", URG_LOW, "compliment");
	ck_urgency("No rush, whenever you get a chance.", URG_LOW, "no-rush");
}
END_TEST

START_TEST(normal_is_the_default)
{
	ck_urgency("Where is my package?", URG_NORMAL, NULL);
	ck_urgency("My camera keeps disconnecting from the wifi", URG_NORMAL, NULL);
	ck_urgency("How do I change the chime sound on the doorbell?", URG_NORMAL, NULL);
	ck_urgency("", URG_NORMAL, NULL);
	ck_urgency("   ...  !!! ", URG_NORMAL, NULL);
	ck_urgency(NULL, URG_NORMAL, NULL);
	const char *why = "unset";
	ck_assert_int_eq(urgency_classify(NULL, "hacked", &why), URG_NORMAL);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(urgency_classify(shipped, "hacked", NULL), URG_CRITICAL);
}
END_TEST

/* ------------------------------------------------- shipped: how it matches */

START_TEST(negators_cancel_a_phrase)
{
	ck_urgency("This is not urgent", URG_LOW, "no-rush");
	ck_urgency("It's not very urgent, whenever", URG_NORMAL, NULL);
	ck_urgency("Nothing urgent here, the app is fine", URG_NORMAL, NULL);
	ck_urgency("I wasn't charged twice, I only want to know the price", URG_NORMAL, NULL);
	ck_urgency("It isn't overheating, just warm", URG_NORMAL, NULL);
	ck_urgency("I'm not impressed", URG_NORMAL, NULL);
	/* Punctuation ends a negator's reach, and a far one does not count. */
	ck_urgency("Not sure. It's urgent though", URG_HIGH, "deadline");
	ck_urgency("No, I was charged twice", URG_HIGH, "wrong-charge");
	ck_urgency("I don't know why but I was charged twice", URG_HIGH, "wrong-charge");
	/* A phrase may start with a negator. */
	ck_urgency("I haven't received my refund", URG_HIGH, "refund-missing");
	ck_urgency("The door won't lock", URG_CRITICAL, "home-security");
}
END_TEST

START_TEST(most_urgent_level_wins)
{
	ck_urgency("Not urgent, but I was charged twice", URG_HIGH, "wrong-charge");
	ck_urgency("Love the app! Quick question: someone logged in to my account and I was "
	           "charged twice",
	           URG_CRITICAL, "account-takeover");
	ck_urgency("I was charged twice and now my account was hacked", URG_CRITICAL,
	           "account-takeover");
	/* Within a level the first match in the text decides. */
	ck_urgency("I need this asap: I was charged twice", URG_HIGH, "deadline");
}
END_TEST

START_TEST(whole_words_case_and_punctuation)
{
	ck_urgency("HACKED!!!", URG_CRITICAL, "account-takeover");
	ck_urgency("the firewall blocks the hub", URG_NORMAL, NULL); /* not "fire" */
	ck_urgency("Was I charged. Twice? No.", URG_NORMAL, NULL);   /* split by punctuation */
	ck_urgency("charged\ntwice", URG_HIGH, "wrong-charge");      /* a line break is a space */
	ck_urgency("emergency\xe2\x80\x94"
	           "fire!",
	           URG_CRITICAL, "safety");
}
END_TEST

/* ---------------------------------------------------------------- loading */

/* The message urgency_load gives for rules (which must fail), without the path. */
static char *
load_error(const char *rules)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "urgency.rules", rules);
	char *cause = NULL;
	struct urgency_rules *r = urgency_load(path, &cause);
	ck_assert_msg(r == NULL, "'%s' loaded", rules);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strncmp(cause, path, strlen(path)) == 0, "no file name in '%s'", cause);
	char *msg = xstrdup(cause + strlen(path));
	free(cause);
	free(path);
	rm_rf(dir);
	free(dir);
	return msg;
}

#define ck_load_error(rules, expect)                                                               \
	do {                                                                                       \
		char *m_ = load_error(rules);                                                      \
		ck_assert_msg(strstr(m_, expect) != NULL, "got '%s', expected '%s'", m_, expect);  \
		free(m_);                                                                          \
	} while (0)

START_TEST(load_errors_have_file_and_line)
{
	ck_load_error("# comment\n\nurgentish  r  a\n", ":3: unknown level 'urgentish'");
	ck_load_error("normal  r  a\n", ":1: 'normal' is what matches no rule");
	ck_load_error("high  r  a || b\n", ":1: empty phrase in rule 'r'");
	ck_load_error("high  r  a | b |\n", ":1: empty phrase in rule 'r'");
	ck_load_error("high  r  a\nhigh  s  \n", ":2: rule 's' has no phrases");
	ck_load_error("high\n", ":1: a high rule needs a name and phrases");
	ck_load_error("high  Bad!  a\n", ":1: bad rule name 'Bad!'");
	ck_load_error("high  r  charged $5\n", ":1: unexpected character '$' in phrase");
	ck_load_error("high  r  caf\xc3\xa9\n", ":1: phrase 'caf\xc3\xa9' has a character that "
	                                        "is not printable ASCII");
	ck_load_error("high  r  ov*\n", ":1: '*' must end a word");
	ck_load_error("high  r  over*heat\n", ":1: '*' must end a word");
	ck_load_error("high  r  *x\n", ":1: '*' must end a word");
	ck_load_error("high  r  * twice\n", ":1: phrase '* twice' cannot start with '*'");
	ck_load_error("negate  *\nhigh r a\n", ":1: a negator cannot be '*'");
	ck_load_error("high  r  a b c d e f g h i\n", ":1: phrase 'a b c d e f g h i' has more "
	                                              "than 8 words");
	ck_load_error("high  r  double charged\nlow  s  Double-Charged\n",
	              ":2: phrase 'Double-Charged' is already in rule 'r' (line 1)");
	ck_load_error("high  r  a\ncritical  r  b\n", ":2: rule 'r' is high at line 1, not "
	                                              "critical");
	ck_load_error("negate\nhigh r a\n", ":1: 'negate' needs at least one word");
	ck_load_error("negate not*\nhigh r a\n", ":1: a negator cannot end in '*'");
	ck_load_error("negate no-one\nhigh r a\n", ":1: negator 'no-one' must be one word");
	ck_load_error("# nothing\n", ": no rules");
	ck_load_error("", ": no rules");
}
END_TEST

START_TEST(load_missing_file)
{
	char *cause = NULL;
	ck_assert_ptr_null(urgency_load("/nonexistent/urgency.rules", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/urgency.rules"));
	free(cause);
}
END_TEST

START_TEST(custom_rules_file)
{
	char *dir = tmpdir_new();
	char *path = tmpfile_with(dir, "u.rules",
	                          "# a small rule set\r\n"
	                          "negate   not never  # trailing comment\r\n"
	                          "low      thanks     thank you | cheers\r\n"
	                          "high     stuck      can't get out* | stuck\r\n"
	                          "critical leak       water leak* | flood*\r\n"
	                          "high     stuck      trapped in | stuck * * room\n"
	                          "\tcritical leak  burst pipe   \n");
	char *cause = NULL;
	struct urgency_rules *r = urgency_load(path, &cause);
	ck_assert_msg(r != NULL, "%s", cause ? cause : "?");
	ck_urgency_at(__FILE__, __LINE__, r, "Thank you!", URG_LOW, "thanks");
	ck_urgency_at(__FILE__, __LINE__, r, "I cant get outside", URG_HIGH, "stuck");
	ck_urgency_at(__FILE__, __LINE__, r, "trapped in the garage", URG_HIGH, "stuck");
	ck_urgency_at(__FILE__, __LINE__, r, "Stuck in the room", URG_HIGH, "stuck");
	ck_urgency_at(__FILE__, __LINE__, r, "the water-leaking sensor", URG_CRITICAL, "leak");
	ck_urgency_at(__FILE__, __LINE__, r, "the basement FLOODED", URG_CRITICAL, "leak");
	ck_urgency_at(__FILE__, __LINE__, r, "a burst pipe", URG_CRITICAL, "leak");
	ck_urgency_at(__FILE__, __LINE__, r, "it never flooded, I'm not stuck, cheers", URG_LOW,
	              "thanks");
	/* Only the listed negators count. */
	ck_urgency_at(__FILE__, __LINE__, r, "it didn't flood", URG_CRITICAL, "leak");
	/* "urgent" is not in this file. */
	ck_urgency_at(__FILE__, __LINE__, r, "urgent", URG_NORMAL, NULL);
	urgency_free(r);
	free(path);
	rm_rf(dir);
	free(dir);
}
END_TEST

/* -------------------------------------------------------------- any input */

static void
classify_bytes(const char *bytes, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, bytes, len);
	copy[len] = '\0';
	enum urgency u = urgency_classify(shipped, copy, NULL);
	ck_assert_int_ge(u, 0);
	ck_assert_int_lt(u, URG__N);
	free(copy);
}

START_TEST(any_input_is_safe)
{
	static const char *const tails[] = {
	    "can'", "can\xe2\x80", "can\xe2", "charged", "locked out of my",
	    "not",  "hack",        "\xff",    "'"};
	for (size_t i = 0; i < nitems(tails); i++)
		classify_bytes(tails[i], strlen(tails[i]));

	unsigned char bin[4096];
	unsigned int seed = 11;
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof bin; i++) {
			seed = seed * 1103515245u + 12345u;
			bin[i] = (unsigned char)(seed >> 16);
			if (bin[i] == 0)
				bin[i] = ' ';
		}
		classify_bytes((const char *)bin, sizeof bin);
	}
	/* Invalid UTF-8 around words still leaves the words. */
	ck_urgency("\xff\xfe hacked \xc3\x28", URG_CRITICAL, "account-takeover");
}
END_TEST

START_TEST(one_megabyte)
{
	size_t n = 1u << 20;
	char *big = xmalloc(n + 1);
	static const char unit[] = "my camera keeps disconnecting, no rush ";
	for (size_t i = 0; i < n; i++)
		big[i] = unit[i % (sizeof unit - 1)];
	big[n] = '\0';
	ck_urgency(big, URG_LOW, "no-rush");
	memcpy(big + n - 20, " I was hacked      ", 19);
	ck_urgency(big, URG_CRITICAL, "account-takeover");
	memset(big, 'a', n);
	ck_urgency(big, URG_NORMAL, NULL);
	free(big);
}
END_TEST

static Suite *
urgency_suite(void)
{
	Suite *s = suite_create("urgency");
	TCase *tc = tcase_create("shipped");
	tcase_add_checked_fixture(tc, load_shipped, free_shipped);
	tcase_add_test(tc, critical_security_and_takeover);
	tcase_add_test(tc, critical_fraud);
	tcase_add_test(tc, critical_outage_and_business);
	tcase_add_test(tc, critical_safety_and_home);
	tcase_add_test(tc, high_locked_out_and_charges);
	tcase_add_test(tc, high_deadline_and_unresolved);
	tcase_add_test(tc, low_ideas_questions_compliments);
	tcase_add_test(tc, normal_is_the_default);
	tcase_add_test(tc, negators_cancel_a_phrase);
	tcase_add_test(tc, most_urgent_level_wins);
	tcase_add_test(tc, whole_words_case_and_punctuation);
	tcase_add_test(tc, any_input_is_safe);
	tcase_add_test(tc, one_megabyte);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, load_errors_have_file_and_line);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, custom_rules_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(urgency_suite());
}
