/* types.h -- the value sets shared by every layer (DESIGN.md section 5). */
#ifndef FL_TYPES_H
#define FL_TYPES_H

enum category {
	CAT_BILLING,
	CAT_TECHNICAL,
	CAT_ACCOUNT,
	CAT_SHIPPING,
	CAT_RETURNS,
	CAT_GENERAL,
	CAT__N
};
enum urgency { URG_CRITICAL, URG_HIGH, URG_NORMAL, URG_LOW, URG__N };
enum sentiment { SENT_FRUSTRATED, SENT_NEUTRAL, SENT_POSITIVE, SENT__N };
enum complexity { CPLX_SIMPLE, CPLX_MODERATE, CPLX_COMPLEX, CPLX_UNKNOWN, CPLX__N };
enum tier { TIER_SELF_SERVE, TIER_STANDARD, TIER_PREMIUM, TIER_ENTERPRISE, TIER__N };
enum route {
	ROUTE_HUMAN_PRIORITY,
	ROUTE_HUMAN_STANDARD,
	ROUTE_RESOLUTION_AUTHENTICATED,
	ROUTE_RESOLUTION_GENERAL,
	ROUTE__N
};
/* Knowledge topics: the six categories plus policy, pricing, product. */
enum topic {
	TOPIC_BILLING,
	TOPIC_TECHNICAL,
	TOPIC_ACCOUNT,
	TOPIC_SHIPPING,
	TOPIC_RETURNS,
	TOPIC_GENERAL,
	TOPIC_POLICY,
	TOPIC_PRICING,
	TOPIC_PRODUCT,
	TOPIC__N
};

/* NULL-terminated name tables, indexed by the enums above. */
extern const char *const category_names[];
extern const char *const urgency_names[];
extern const char *const sentiment_names[];
extern const char *const complexity_names[];
extern const char *const tier_names[];
extern const char *const route_names[];
extern const char *const topic_names[];

/* Index of name in a NULL-terminated table, or -1. */
int names_find(const char *const *table, const char *name);

#endif
