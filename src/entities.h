/* entities.h -- what triage extracts from a message: ids, contacts, money, products. */
#ifndef FL_ENTITIES_H
#define FL_ENTITIES_H

#include <cjson/cJSON.h>

#include "util.h"

struct money {
	double value;
	char currency[4]; /* ISO 4217: USD, EUR, GBP, ... */
};

struct entities {
	struct strv order_numbers;
	struct strv account_ids;
	struct strv emails;
	struct strv phones;
	struct strv products; /* catalogue ids */
	struct money *amounts;
	size_t namounts;
};

struct entity_rules; /* compiled formats and the product catalogue */

/*
 * Compiles the policy's order-number and account-id formats (POSIX
 * extended regular expressions, case-sensitive; NULL for the default)
 * and loads the product catalogue (kb/catalog.yaml; NULL for none).
 * Returns NULL with *cause (caller frees), with file:line for catalogue
 * errors.
 */
struct entity_rules *entity_rules_new(const char *order_re, const char *account_re,
                                      const char *catalog_path, char **cause);
void entity_rules_free(struct entity_rules *);
/*
 * Appends every product name and alias of the catalogue, in lower case,
 * to names, and the id of the product it names to products.
 */
void entity_rules_names(const struct entity_rules *, struct strv *names, struct strv *products);

/* Extracts entities from text into out (zeroed first); free with entities_free. */
void entities_extract(const struct entity_rules *, const char *text, struct entities *out);
void entities_free(struct entities *);
/* DESIGN.md's entities object; caller frees. */
cJSON *entities_json(const struct entities *);
/* The largest amount in US dollars (other currencies count at face value), or -1. */
double entities_max_usd(const struct entities *);

#endif
