/*
 * jschema.h -- frontline's own JSON schemas, as tables of const structs.
 *
 * One table describes a JSON value the way we want it from a model: it
 * reads whatever a server returns (jschema_read, lenient the way pydantic
 * and instructor are; jschema_check, strict), renders the JSON
 * Schema sent to servers that support structured output
 * (jschema_to_json), and renders a plain description for the instruction
 * text of servers that do not (jschema_describe).
 */
#ifndef FL_JSCHEMA_H
#define FL_JSCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum jschema_type {
	JSCHEMA_OBJECT,
	JSCHEMA_STRING,
	JSCHEMA_NUMBER,
	JSCHEMA_INTEGER,
	JSCHEMA_BOOLEAN,
	JSCHEMA_ARRAY,
};

struct jschema;

/* One key of an object; a table of them ends with a row whose name is NULL. */
struct jschema_prop {
	const char *name;
	const struct jschema *schema;
	/*
	 * An optional key may be absent or null. (Strict structured output
	 * has no optional keys, so jschema_to_json lists it as required and
	 * nullable.)
	 */
	int optional;
};

/*
 * A schema. Fields that do not apply to the type are ignored; zero
 * means "no constraint" throughout, so rows only name what they need.
 */
struct jschema {
	enum jschema_type type;
	const char *description; /* for the model; may be NULL */

	/* JSCHEMA_STRING */
	const char *const *enum_values; /* NULL-terminated, or NULL for any string */
	size_t min_length;              /* in code points */
	size_t max_length;              /* in code points; 0 = unbounded */

	/* JSCHEMA_NUMBER, JSCHEMA_INTEGER (inclusive bounds) */
	int has_minimum;
	double minimum;
	int has_maximum;
	double maximum;

	/* JSCHEMA_ARRAY */
	const struct jschema *items; /* NULL: any value */
	size_t max_items;            /* 0 = unbounded */

	/* JSCHEMA_OBJECT: NULL means the empty object; other keys are an error */
	const struct jschema_prop *props;
};

/*
 * The triage a model must return: DESIGN.md section 5's TriageResult
 * without route (the policy decides it); entities, complexity_signal and
 * has_legal_language are optional.
 */
extern const struct jschema jschema_triage;

/*
 * Validates value against the schema. Returns 0, or -1 with *cause (the
 * caller frees; cause may be NULL) naming the path and the first problem,
 * e.g. `$.urgency: "urgent" is not one of critical, high, normal, low`.
 * Keys the schema does not list, duplicate keys, non-finite numbers and
 * strings that are not valid UTF-8 are errors. Values quoted in the
 * cause are escaped and shortened, so it is safe to display.
 */
int jschema_check(const struct jschema *, const cJSON *value, char **cause);

/*
 * Reads a model's answer the way the ecosystem does (pydantic's default,
 * instructor): as jschema_check, except that keys the schema does not
 * list are removed from value and counted in *ignored (may be NULL), and
 * that a string holding a number where the schema wants a number ("0.9")
 * or "true"/"false" where it wants a boolean is taken as that value.
 * What is really wrong is still refused: a missing required key, a value
 * of the wrong type, a wrong enum value, a broken bound, a key twice.
 * Returns 0, or -1 with *cause as jschema_check.
 */
int jschema_read(const struct jschema *, cJSON *value, int *ignored, char **cause);

/*
 * The equivalent JSON Schema, in the subset OpenAI's strict structured
 * outputs accept: every property listed in required (optional ones as
 * anyOf [schema, null]), additionalProperties false on every object,
 * enums kept, and the numeric, length and item-count bounds moved into
 * the description text instead of keywords. Returns a new tree the
 * caller frees with cJSON_Delete.
 */
cJSON *jschema_to_json(const struct jschema *);

/*
 * A compact human-readable rendering (several lines, two-space indent,
 * descriptions as // comments) for the instruction text of servers with
 * no schema support. Returns a string the caller frees.
 */
char *jschema_describe(const struct jschema *);

/* What a JSON value is, for messages: "an object", "a string", "null", ... (static). */
const char *jschema_value_noun(const cJSON *);

#endif
