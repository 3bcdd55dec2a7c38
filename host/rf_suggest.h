/* radarflow: "did you mean" for mistyped names (commands, options,
 * settings, workloads). */
#ifndef RF_SUGGEST_H
#define RF_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance between a and b (insertions,
 * deletions, substitutions and swaps of neighbours each cost 1), case
 * sensitive; strings longer than 63 bytes compare as far apart. */
size_t rf_edit_distance(const char *a, const char *b);

/* The candidate closest to word, when it is close enough to be a likely
 * typo: distance at most 1 for words of up to 4 bytes, else at most a third
 * of the word's length (at least 2), or a candidate that word is a prefix
 * of (or that is a prefix of word) by at least 3 bytes. NULL when none is
 * close or two are equally close. NULL entries of cands are skipped. */
const char *rf_suggest(const char *word, const char *const *cands, size_t n);

#endif
