/* textsim.h -- how close a reply is to another: token F1 and ROUGE-L. */
#ifndef FL_TEXTSIM_H
#define FL_TEXTSIM_H

/*
 * Both scores compare lower-cased word tokens (runs of letters and digits,
 * bytes of UTF-8 sequences counting as letters, an apostrophe inside a word
 * kept: "don't" is one token). Each is in [0,1]; two texts without tokens
 * score 1, one without tokens against one with them scores 0. Texts are
 * cut at TEXTSIM_MAX_TOKENS tokens, which bounds ROUGE-L's quadratic cost.
 */
#define TEXTSIM_MAX_TOKENS 2000

struct textsim {
	double f1;      /* token-level F1: overlap of the two bags of tokens */
	double rouge_l; /* ROUGE-L F1: the longest common token subsequence */
};

/* Compares a candidate (the agent's reply) with a reference (the human's); fills out. */
void textsim_compare(const char *candidate, const char *reference, struct textsim *out);

double textsim_f1(const char *candidate, const char *reference);
double textsim_rouge_l(const char *candidate, const char *reference);

#endif
