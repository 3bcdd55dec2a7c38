/* radarflow host/: "did you mean" (rf_suggest.h). */
#include "rf_suggest.h"

#include <string.h>

#define RF__SUGGEST_MAX 64

size_t rf_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la >= RF__SUGGEST_MAX || lb >= RF__SUGGEST_MAX) return (size_t)-1;
  /* d[i][j]: distance between the first i bytes of a and the first j of b. */
  size_t d[RF__SUGGEST_MAX][RF__SUGGEST_MAX];
  for (size_t i = 0; i <= la; i++) d[i][0] = i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* 1 when the shorter of a, b (>= 3 bytes) begins the longer. */
static int rf__prefix(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), m = la < lb ? la : lb;
  return m >= 3 && strncmp(a, b, m) == 0;
}

const char *rf_suggest(const char *word, const char *const *cands, size_t n) {
  size_t lw = strlen(word);
  size_t limit = lw <= 4 ? 1 : lw / 3 > 2 ? lw / 3 : 2;
  const char *best = NULL;
  size_t bd = (size_t)-1;
  int tie = 0;
  for (size_t i = 0; i < n; i++) {
    if (!cands[i] || !strcmp(cands[i], word)) continue;
    size_t d = rf_edit_distance(word, cands[i]);
    /* A prefix counts as a near miss ranked after every real typo. */
    if (d > limit && rf__prefix(word, cands[i])) d = limit + 1;
    else if (d > limit) continue;
    if (d < bd) best = cands[i], bd = d, tie = 0;
    else if (d == bd && strcmp(best, cands[i])) tie = 1;
  }
  return tie ? NULL : best;
}
