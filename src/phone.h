/* phone.h -- phone numbers in free text, for entity extraction and output validation. */
#ifndef FL_PHONE_H
#define FL_PHONE_H

#include <stddef.h>

/*
 * A phone number is groups of digits separated by one space, hyphen or
 * point, the area code perhaps in parentheses, or a "+" international
 * number; dates, year ranges, ZIP+4 codes, SSN-shaped numbers (3-2-4)
 * and runs of more than 15 digits (cards, tracking numbers) are not.
 */

/*
 * The next phone number in s[0, n) at or after *pos, skipping bytes
 * marked in taken (may be NULL): returns 1 with it in [*a, *b) and its
 * comparison key, moving *pos past it; 0 at the end.
 */
int phone_next(const char *s, size_t n, const unsigned char *taken, size_t *pos, size_t *a,
               size_t *b, char key[16]);
/* The comparison key of n digits: without a North American leading 1. */
void phone_key(const char *digits, int n, char key[16]);
/* Keys name the same number: equal, or the same last ten digits. */
int phone_same(const char *x, const char *y);

#endif
