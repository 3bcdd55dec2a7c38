/* radarflow: product folders that are replaced whole or not at all
 * (rf_files.h, "product sets"; docs/reliability.md gives the sequence).
 *
 * A product folder carries the marker RF_PRODUCTS_MARKER, a JSON file
 * listing every entry radarflow wrote there. Only entries so listed are ever
 * removed. A new set is written into a temporary folder beside the target,
 * marked complete, and switched in with one rename (or an exchange of the
 * two folders), so the target holds the whole old set or the whole new one
 * at every instant. */
#include "rf_files.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RF__PATH_MAX 4096
/* Largest marker read (a few hundred names). */
#define RF__MARKER_MAX ((size_t)1 << 20)
/* Entry names a legacy product folder (run.json of radarflow, no marker) may
 * hold: the products of `process` and `batch` before markers existed. */
static const char *const rf__legacy_names[] = {"plots.h5",   "plots.csv",  "tracks.h5",   "tracks.csv",
                                               "plots.ast",  "tracks.ast", "plots.pcap",  "tracks.pcap",
                                               "run.json",   "input.json", "quicklook/"};
/* In a legacy folder's quicklook/, the pictures and page quicklook wrote. */
static int rf__legacy_picture(const char *e) {
  const char *q = "quicklook/", *n = e + strlen(q);
  if (strncmp(e, q, strlen(q)) || !*n || strchr(n, '/')) return 0;
  size_t l = strlen(n);
  return !strcmp(n, "index.html") || !strcmp(n, ".radarflow-quicklook") || (l > 4 && !strcmp(n + l - 4, ".png"));
}

/* ---- small helpers ------------------------------------------------------------------ */
typedef struct rf__names {
  char **v;
  size_t n, cap;
} rf__names;

static void rf__names_free(rf__names *l) {
  for (size_t i = 0; i < l->n; i++) rf__free(l->v[i]);
  rf__free(l->v);
  memset(l, 0, sizeof *l);
}

static int rf__names_add(rf__names *l, const char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **v = rf__realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = rf__strdup(s))) return -1;
  l->n++;
  return 0;
}

static int rf__names_has(const rf__names *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s)) return 1;
  return 0;
}

static int rf__cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void rf_host_name(char *out, size_t len) {
  char h[256] = "host";
  gethostname(h, sizeof h - 1);
  h[sizeof h - 1] = 0;
  size_t i = 0;
  for (; h[i] && h[i] != '.' && i + 1 < len; i++) {
    char c = h[i];
    out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
  }
  out[i] = 0;
}

int rf_pid_alive(long pid) {
  char p[64], buf[512];
  if (pid <= 0) return 0;
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  FILE *f = fopen(p, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

int rf_outset_parse_temp(const char *entry, char *base, size_t blen, char *host, size_t hlen, long *pid,
                         int *old) {
  if (entry[0] != '.') return -1;
  const char *dot_pid = strrchr(entry, '.');
  if (!dot_pid || dot_pid == entry) return -1;
  char *end;
  errno = 0;
  *pid = strtol(dot_pid + 1, &end, 10);
  if (*end || end == dot_pid + 1 || errno || *pid <= 0) return -1;
  const char *dot_host = dot_pid - 1;
  while (dot_host > entry && *dot_host != '.') dot_host--;
  if (dot_host <= entry + 4) return -1;
  int is_tmp = !strncmp(dot_host - 4, ".tmp", 4), is_old = !strncmp(dot_host - 4, ".old", 4);
  if (!is_tmp && !is_old) return -1;
  size_t nl = (size_t)(dot_host - 4 - (entry + 1));
  size_t hl = (size_t)(dot_pid - dot_host - 1);
  if (nl == 0 || nl >= blen || hl == 0 || hl >= hlen) return -1;
  memcpy(base, entry + 1, nl);
  base[nl] = 0;
  memcpy(host, dot_host + 1, hl);
  host[hl] = 0;
  if (old) *old = is_old;
  return 0;
}

int rf_path_within(const char *dir, const char *path) {
  char d[PATH_MAX], p[PATH_MAX];
  if (!realpath(dir, d)) return 0;
  if (!realpath(path, p)) {
    /* A path that does not exist (yet): its folder resolved, plus its name. */
    const char *slash = strrchr(path, '/');
    char pd[PATH_MAX];
    if (!slash) snprintf(pd, sizeof pd, ".");
    else if (slash == path) snprintf(pd, sizeof pd, "/");
    else snprintf(pd, sizeof pd, "%.*s", (int)(slash - path), path);
    char r[PATH_MAX];
    if (!realpath(pd, r)) return 0;
    if (snprintf(p, sizeof p, "%s/%s", strcmp(r, "/") ? r : "", slash ? slash + 1 : path) >= (int)sizeof p)
      return 0;
  }
  size_t n = strlen(d);
  if (!strcmp(p, d)) return 1;
  if (!strcmp(d, "/")) return 1;
  return strncmp(p, d, n) == 0 && p[n] == '/';
}

/* ---- markers ------------------------------------------------------------------------- */
/* A marker entry: a relative path inside the folder, "sub/" for a folder,
 * "sub/name" for a file in it; no empty, "." or ".." component, no leading
 * slash. */
static int rf__entry_ok(const char *e) {
  if (!e[0] || e[0] == '/') return 0;
  for (const char *c = e; *c;) {
    const char *slash = strchr(c, '/');
    size_t n = slash ? (size_t)(slash - c) : strlen(c);
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    if (!slash) break;
    c = slash + 1;
  }
  return 1;
}

/* The marker of dir: 1 and its names (and *complete) when dir carries one
 * written by radarflow; 0 when it has none or an unreadable one. */
static int rf__marker_read(const char *dir, rf__names *names, int *complete) {
  char p[RF__PATH_MAX], *txt = NULL, saved[1024];
  struct stat sb;
  *complete = 0;
  if (rf_path_join(p, sizeof p, dir, RF_PRODUCTS_MARKER)) return 0;
  if (lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) return 0;
  snprintf(saved, sizeof saved, "%s", rf_errmsg());
  int st = rf_slurp(p, RF__MARKER_MAX, &txt, NULL);
  rf__err(0, "%s", saved); /* a failed look is not this run's error */
  if (st) return 0;
  cJSON *j = cJSON_Parse(txt);
  rf__free(txt);
  const cJSON *prog = cJSON_GetObjectItemCaseSensitive(j, "program");
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "state"), *f;
  int ok = cJSON_IsString(prog) && !strcmp(prog->valuestring, "radarflow") && cJSON_IsArray(files);
  if (ok) {
    cJSON_ArrayForEach(f, files) {
      if (!cJSON_IsString(f) || !rf__entry_ok(f->valuestring)) {
        ok = 0;
        break;
      }
      if (rf__names_add(names, f->valuestring)) {
        ok = 0;
        break;
      }
    }
    *complete = cJSON_IsString(state) && !strcmp(state->valuestring, "complete");
  }
  if (!ok) rf__names_free(names);
  cJSON_Delete(j);
  return ok;
}

/* 1 when dir/run.json says radarflow wrote it (a folder made before markers). */
static int rf__legacy_run_json(const char *dir) {
  char p[RF__PATH_MAX], *txt = NULL, saved[1024];
  struct stat sb;
  if (rf_path_join(p, sizeof p, dir, "run.json") || lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) return 0;
  snprintf(saved, sizeof saved, "%s", rf_errmsg());
  int st = rf_slurp(p, RF__MARKER_MAX * 16, &txt, NULL);
  rf__err(0, "%s", saved);
  if (st) return 0;
  cJSON *j = cJSON_Parse(txt);
  rf__free(txt);
  const cJSON *prog = cJSON_GetObjectItemCaseSensitive(j, "program");
  int ok = cJSON_IsString(prog) && !strcmp(prog->valuestring, "radarflow");
  cJSON_Delete(j);
  return ok;
}

static int rf__list(const char *dir, rf__names *out);

/* The entries of dir radarflow may remove: the marker's list and the
 * marker, or (legacy folder) the known product names. Returns 1 when the
 * folder is radarflow's, 0 when not (owned empty). */
static int rf__owned(const char *dir, rf__names *owned, int *complete) {
  memset(owned, 0, sizeof *owned);
  if (rf__marker_read(dir, owned, complete)) {
    if (rf__names_add(owned, RF_PRODUCTS_MARKER)) {
      rf__names_free(owned);
      return -1;
    }
    return 1;
  }
  if (!rf__legacy_run_json(dir)) return 0;
  *complete = 1;
  rf__names ent = {0};
  int st = rf__list(dir, &ent);
  for (size_t i = 0; !st && i < sizeof rf__legacy_names / sizeof *rf__legacy_names; i++)
    st = rf__names_add(owned, rf__legacy_names[i]);
  for (size_t i = 0; !st && i < ent.n; i++)
    if (rf__legacy_picture(ent.v[i])) st = rf__names_add(owned, ent.v[i]);
  rf__names_free(&ent);
  if (st) {
    rf__names_free(owned);
    return -1;
  }
  return 1;
}

/* Every entry under dir, as marker entries: a file (or anything not a
 * folder) "sub/name", a folder "sub/" (symbolic links are not followed).
 * Sorted, so a folder's entries come before the folder itself in reverse
 * order (deepest first), which is the order they are removed in. */
#define RF__TREE_DEPTH 8
static int rf__list_in(const char *root, const char *rel, int depth, rf__names *out) {
  char path[RF__PATH_MAX], sub[RF__PATH_MAX];
  if (rel[0] ? rf_path_join(path, sizeof path, root, rel) : (snprintf(path, sizeof path, "%s", root) >= (int)sizeof path))
    return -1;
  DIR *d = opendir(path);
  if (!d) return -1;
  struct dirent *de;
  int st = 0;
  while (!st && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    struct stat sb;
    if (snprintf(sub, sizeof sub, "%s%s", rel, de->d_name) >= (int)sizeof sub ||
        rf_path_join(path, sizeof path, root, sub) || lstat(path, &sb) < 0) {
      st = -1;
      break;
    }
    if (S_ISDIR(sb.st_mode)) {
      /* Too deep: listed as a folder only, so its contents count as foreign. */
      if (strlen(sub) + 2 > sizeof sub) st = -1;
      else {
        strcat(sub, "/");
        st = rf__names_add(out, sub);
        if (!st && depth < RF__TREE_DEPTH) st = rf__list_in(root, sub, depth + 1, out);
      }
    } else {
      st = rf__names_add(out, sub);
    }
  }
  closedir(d);
  return st;
}

static int rf__list(const char *dir, rf__names *out) {
  memset(out, 0, sizeof *out);
  int st = rf__list_in(dir, "", 0, out);
  if (st) rf__names_free(out);
  else if (out->n) qsort(out->v, out->n, sizeof *out->v, rf__cmp_str);
  return st;
}

int rf_products_check(const char *dir, int *is_empty) {
  struct stat sb;
  rf__names ent = {0}, own = {0};
  int complete = 0, st = 0;
  *is_empty = 0;
  if (lstat(dir, &sb) < 0) {
    if (errno == ENOENT) {
      *is_empty = 1;
      return 0;
    }
    return rf__err(RF_EINVAL, "%s: output folder: %s", dir, strerror(errno));
  }
  if (!S_ISDIR(sb.st_mode))
    return rf__err(RF_EINVAL, "%s: exists and is not a folder; radarflow never replaces it (choose another output)",
                   dir);
  if (rf__list(dir, &ent)) return rf__err(RF_EINVAL, "%s: cannot read the output folder: %s", dir, strerror(errno));
  if (!ent.n) {
    *is_empty = 1;
    goto done;
  }
  int mine = rf__owned(dir, &own, &complete);
  if (mine < 0) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
    goto done;
  }
  if (!mine) {
    st = rf__err(RF_EINVAL,
                 "%s: the output folder exists, is not empty (%s%s) and is not a radarflow product folder (no %s "
                 "marker): radarflow replaces only folders it wrote; choose another output or empty it",
                 dir, ent.v[0], ent.n > 1 ? ", ..." : "", RF_PRODUCTS_MARKER);
    goto done;
  }
  for (size_t i = 0; i < ent.n; i++)
    if (!rf__names_has(&own, ent.v[i])) {
      st = rf__err(RF_EINVAL,
                   "%s: the product folder also holds %s, which radarflow did not write; it is never removed, so the "
                   "folder cannot be replaced: move it away or choose another output",
                   dir, ent.v[i]);
      goto done;
    }
done:
  rf__names_free(&ent);
  rf__names_free(&own);
  return st;
}

/* Writes the marker of dir: state and the entries of `ent` but the marker
 * itself and unfinished temporaries. */
static int rf__marker_write_names(const char *dir, const char *state, const rf__names *list) {
  const rf__names ent = *list;
  char p[RF__PATH_MAX], host[64];
  int st = 0;
  cJSON *root = cJSON_CreateObject(), *files = cJSON_CreateArray();
  if (!root || !files) {
    cJSON_Delete(files);
    st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
    goto done;
  }
  rf_host_name(host, sizeof host);
  cJSON_AddStringToObject(root, "program", "radarflow");
  cJSON_AddStringToObject(root, "version", RF_VERSION);
  cJSON_AddStringToObject(root, "state", state);
  cJSON_AddStringToObject(root, "host", host);
  cJSON_AddNumberToObject(root, "pid", (double)getpid());
  for (size_t i = 0; i < ent.n; i++) {
    const char *n = ent.v[i];
    size_t l = strlen(n);
    /* Not the marker, nor its own or a writer's unfinished temporary. */
    if (!strncmp(n, RF_PRODUCTS_MARKER, strlen(RF_PRODUCTS_MARKER)) || (l > 5 && strstr(n, ".tmp.")))
      continue;
    cJSON_AddItemToArray(files, cJSON_CreateString(n));
  }
  cJSON_AddItemToObject(root, "files", files);
  char *txt = cJSON_Print(root);
  if (!txt) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
    goto done;
  }
  size_t n = strlen(txt);
  txt[n] = '\n';
  if (!(st = rf_path_join(p, sizeof p, dir, RF_PRODUCTS_MARKER))) st = rf_write_file_atomic(p, txt, n + 1);
  cJSON_free(txt);
done:
  cJSON_Delete(root);
  return st;
}

/* Writes the marker of dir listing every entry now in it (a folder only
 * this program wrote into: the temporary set). */
static int rf__marker_write(const char *dir, const char *state) {
  rf__names ent = {0};
  if (rf__list(dir, &ent)) return rf__err(RF_EIO, "%s: cannot read folder: %s", dir, strerror(errno));
  int st = rf__marker_write_names(dir, state, &ent);
  rf__names_free(&ent);
  return st;
}

int rf_products_adopt(const char *dir, const char *const *names, size_t n) {
  rf__names own = {0};
  int complete = 0, st = 0;
  if (!rf__marker_read(dir, &own, &complete)) return 0; /* not a marked folder: nothing to record */
  for (size_t i = 0; !st && i < n; i++) {
    if (!rf__entry_ok(names[i])) st = rf__err(RF_EINVAL, "%s: %s: not an entry of the folder", dir, names[i]);
    else if (!rf__names_has(&own, names[i]) && rf__names_add(&own, names[i])) st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
  }
  if (!st && complete) st = rf__marker_write_names(dir, "complete", &own);
  rf__names_free(&own);
  return st;
}

/* Removes what radarflow wrote in dir (its marker's list, else nothing),
 * then dir when that leaves it empty. 0 when dir is gone. */
static int rf__remove_owned(const char *dir) {
  rf__names own = {0}, ent = {0};
  int complete = 0;
  char p[RF__PATH_MAX];
  int mine = rf__owned(dir, &own, &complete);
  if (mine > 0 && !rf__list(dir, &ent)) {
    /* Deepest first (reverse sorted: "q/a.png" before "q/"), a listed file
     * unlinked, a listed folder removed only once empty, the marker last:
     * a folder killed half way still says what is ours. */
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = ent.n; i-- > 0;) {
        const char *e = ent.v[i];
        int is_marker = !strcmp(e, RF_PRODUCTS_MARKER);
        if (is_marker != pass || !rf__names_has(&own, e) || rf_path_join(p, sizeof p, dir, e)) continue;
        if (e[strlen(e) - 1] == '/') rmdir(p);
        else unlink(p);
      }
  }
  rf__names_free(&own);
  rf__names_free(&ent);
  return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes a temporary folder this program made: one whose marker still
 * says "writing" was never a visible product folder, all of it is ours;
 * one that holds a swapped-out set (complete, legacy or empty) loses only
 * what radarflow wrote. */
static int rf__remove_temp(const char *path) {
  rf__names own = {0}, ent = {0};
  int complete = 0, st = 0;
  char p[RF__PATH_MAX];
  int marked = rf__marker_read(path, &own, &complete);
  rf__names_free(&own);
  if (marked && complete) return rf__remove_owned(path);
  if (rf__list(path, &ent)) return -1;
  if (!marked) {
    /* Killed before its first marker was renamed into place: nothing but
     * that marker's own temporary can be in it. Anything else stays. */
    for (size_t i = 0; i < ent.n; i++)
      if (strncmp(ent.v[i], RF_PRODUCTS_MARKER ".tmp.", strlen(RF_PRODUCTS_MARKER ".tmp.")) || strchr(ent.v[i], '/'))
        st = -1;
  }
  /* Everything but the marker first, the marker last: a removal killed
   * half way leaves a folder that still says it is ours. */
  for (int pass = 0; !st && pass < 2; pass++)
    for (size_t i = 0; i < ent.n; i++) {
      if ((!strcmp(ent.v[i], RF_PRODUCTS_MARKER)) != pass || rf_path_join(p, sizeof p, path, ent.v[i])) continue;
      struct stat sb;
      if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) rf_remove_tree(p);
      else unlink(p);
    }
  rf__names_free(&ent);
  return st || (rmdir(path) < 0 && errno != ENOENT) ? -1 : 0;
}

/* ---- the switch ------------------------------------------------------------------------ */
struct rf_outset {
  char dir[RF__PATH_MAX];    /* the target folder, resolved */
  char parent[RF__PATH_MAX]; /* its folder */
  char base[NAME_MAX + 1];   /* its name */
  char tmp[RF__PATH_MAX];    /* parent/.base.tmp.<host>.<pid> */
  char old[RF__PATH_MAX];    /* parent/.base.old.<host>.<pid> (rename fallback) */
  int made, switched;
};

/* Test hook: RF_TEST_SWITCH_DELAY_MS widens the switch's steps. */
static void rf__test_delay(void) {
  const char *s = getenv("RF_TEST_SWITCH_DELAY_MS");
  long ms = s ? atol(s) : 0;
  if (ms <= 0) return;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* Splits the target into parent and base, following a symbolic link at
 * the target itself (the link is kept; its folder is switched). */
static int rf__resolve(rf_outset *o, const char *outdir) {
  char buf[RF__PATH_MAX];
  size_t n = strlen(outdir);
  if (!n || n >= sizeof buf) return rf__err(RF_EINVAL, "%s: output folder: bad or too long a path", outdir);
  memcpy(buf, outdir, n + 1);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  struct stat sb;
  char real[PATH_MAX];
  const char *last = strrchr(buf, '/');
  last = last ? last + 1 : buf;
  int dots = !strcmp(last, ".") || !strcmp(last, "..");
  if (dots || (lstat(buf, &sb) == 0 && S_ISLNK(sb.st_mode))) {
    if (!realpath(buf, real)) return rf__err(RF_EINVAL, "%s: output folder: %s", outdir, strerror(errno));
    snprintf(buf, sizeof buf, "%s", real);
  }
  const char *slash = strrchr(buf, '/');
  const char *base = slash ? slash + 1 : buf;
  if (!strcmp(buf, "/") || !*base || !strcmp(base, ".") || !strcmp(base, ".."))
    return rf__err(RF_EINVAL, "%s: cannot be an output folder (give a folder below it)", outdir);
  if (strlen(base) > NAME_MAX - 40) return rf__err(RF_EINVAL, "%s: output folder name too long", outdir);
  snprintf(o->base, sizeof o->base, "%s", base);
  if (!slash) snprintf(o->parent, sizeof o->parent, ".");
  else if (slash == buf) snprintf(o->parent, sizeof o->parent, "/");
  else snprintf(o->parent, sizeof o->parent, "%.*s", (int)(slash - buf), buf);
  snprintf(o->dir, sizeof o->dir, "%s", buf);
  return 0;
}

/* After a switch killed between its two renames (no exchange): the target
 * is missing and a complete new set (.tmp.) or the old one (.old.) waits
 * beside it. The new set is put in place, else the old one. */
static void rf__recover(const char *parent, const char *base, const char *dir) {
  struct stat sb;
  if (lstat(dir, &sb) == 0) return;
  DIR *d = opendir(parent);
  if (!d) return;
  char host[64], best[RF__PATH_MAX] = "";
  int best_rank = 0;
  rf_host_name(host, sizeof host);
  struct dirent *de;
  while ((de = readdir(d))) {
    char b[NAME_MAX + 1], h[256], p[RF__PATH_MAX];
    long pid;
    int old, complete = 0;
    if (rf_outset_parse_temp(de->d_name, b, sizeof b, h, sizeof h, &pid, &old) || strcmp(b, base)) continue;
    if (strcmp(h, host) || rf_pid_alive(pid)) continue;
    if (rf_path_join(p, sizeof p, parent, de->d_name)) continue;
    rf__names own = {0};
    int marked = rf__marker_read(p, &own, &complete);
    rf__names_free(&own);
    if (!marked || !complete) continue;
    int rank = old ? 1 : 2; /* the finished new set first */
    if (rank > best_rank) {
      best_rank = rank;
      snprintf(best, sizeof best, "%s", p);
    }
  }
  closedir(d);
  if (best_rank && rename(best, dir) == 0) {
    rf_log(1, "radarflow: %s: restored the %s product set of an interrupted run", dir,
           best_rank == 2 ? "new" : "previous");
    rf_fsync_dir(parent);
  }
}

size_t rf_outset_clean_stale(const char *outdir) {
  rf_outset o;
  memset(&o, 0, sizeof o);
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", rf_errmsg());
  if (rf__resolve(&o, outdir)) {
    rf__err(0, "%s", saved);
    return 0;
  }
  rf__recover(o.parent, o.base, o.dir);
  DIR *d = opendir(o.parent);
  size_t removed = 0;
  if (!d) return 0;
  char host[64];
  rf_host_name(host, sizeof host);
  struct dirent *de;
  while ((de = readdir(d))) {
    char b[NAME_MAX + 1], h[256], p[RF__PATH_MAX];
    long pid;
    int old;
    if (rf_outset_parse_temp(de->d_name, b, sizeof b, h, sizeof h, &pid, &old) || strcmp(b, o.base)) continue;
    /* Another host's (a shared file system) or a live process's: not ours to judge. */
    if (strcmp(h, host) || (pid != (long)getpid() && rf_pid_alive(pid))) continue;
    if (pid == (long)getpid()) continue; /* this process's own, handled by its rf_outset */
    if (!rf_path_join(p, sizeof p, o.parent, de->d_name) && rf__remove_temp(p) == 0) removed++;
  }
  closedir(d);
  return removed;
}

int rf_outset_remove_temp(const char *path) { return rf__remove_temp(path); }

/* RF_OUTSET_KEEP: the old set's files, but for its quick look (pictures
 * of the old products), hard-linked into the new set's folder tmp, where
 * the new set's files replace those of the same name. The old folder keeps
 * its own names until the switch removes them; the data stays, linked. */
static int rf__carry(const char *dir, const char *tmp) {
  rf__names own = {0}, ent = {0};
  int complete = 0, st = 0;
  char from[RF__PATH_MAX], to[RF__PATH_MAX];
  int mine = rf__owned(dir, &own, &complete);
  if (mine < 0 || (mine > 0 && rf__list(dir, &ent))) st = rf__err(RF_EIO, "%s: cannot read folder: %s", dir, strerror(errno));
  /* Sorted: a folder comes before its entries. */
  for (size_t i = 0; !st && mine > 0 && i < ent.n; i++) {
    const char *e = ent.v[i];
    if (!strcmp(e, RF_PRODUCTS_MARKER) || !rf__names_has(&own, e) || !strncmp(e, "quicklook/", 10)) continue;
    if ((st = rf_path_join(from, sizeof from, dir, e)) || (st = rf_path_join(to, sizeof to, tmp, e))) break;
    if (e[strlen(e) - 1] == '/' ? mkdir(to, 0777) < 0 : link(from, to) < 0)
      st = rf__err(RF_EIO, "%s: cannot keep %s in the new set: %s", dir, e, strerror(errno));
  }
  rf__names_free(&own);
  rf__names_free(&ent);
  return st;
}

int rf_outset_create(rf_outset **out, const char *outdir, const char *const *inputs, size_t ninputs, int flags) {
  *out = NULL;
  rf_outset *o = rf__calloc(1, sizeof *o);
  if (!o) return rf__err(RF_ENOMEM, "%s: out of memory", outdir);
  char host[64];
  int st, empty;
  if ((st = rf__resolve(o, outdir))) goto fail;
  /* An input equal to the output folder or inside it would be replaced;
   * with RF_OUTSET_KEEP one inside it is carried into the new set (only
   * radarflow's own files can be there: rf_products_check below). */
  for (size_t i = 0; i < ninputs; i++)
    if (inputs[i] && ((flags & RF_OUTSET_KEEP) ? rf_path_within(inputs[i], o->dir) : rf_path_within(o->dir, inputs[i]))) {
      st = rf__err(RF_EINVAL, "%s: the input lies in the output folder %s, which radarflow replaces: choose another output",
                   inputs[i], outdir);
      goto fail;
    }
  if ((st = rf_mkdirs(o->parent))) {
    st = rf__err(RF_EINVAL, "%s", rf_errmsg());
    goto fail;
  }
  if (!(flags & RF_OUTSET_NO_CLEAN)) rf_outset_clean_stale(o->dir);
  if ((st = rf_products_check(o->dir, &empty))) goto fail;
  rf_host_name(host, sizeof host);
  if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp.%s.%ld", o->parent, o->base, host, (long)getpid()) >=
          (int)sizeof o->tmp ||
      snprintf(o->old, sizeof o->old, "%s/.%s.old.%s.%ld", o->parent, o->base, host, (long)getpid()) >=
          (int)sizeof o->old) {
    st = rf__err(RF_EINVAL, "%s: output path too long", outdir);
    goto fail;
  }
  rf__remove_temp(o->tmp); /* this process's own leftover, if any */
  if (mkdir(o->tmp, 0777) < 0) {
    st = rf__err(RF_EINVAL, "%s: output folder is not writable: cannot create %s beside it: %s", outdir, o->tmp,
                 strerror(errno));
    goto fail;
  }
  o->made = 1;
  if ((st = rf__marker_write(o->tmp, "writing"))) goto fail;
  if ((flags & RF_OUTSET_KEEP) && !empty && (st = rf__carry(o->dir, o->tmp))) goto fail;
  *out = o;
  return 0;
fail:
  rf_outset_destroy(o);
  return st;
}

const char *rf_outset_tmpdir(const rf_outset *o) { return o->tmp; }
const char *rf_outset_dir(const rf_outset *o) { return o->dir; }

int rf_outset_commit(rf_outset *o) {
  struct stat sb;
  int st, empty, exists = lstat(o->dir, &sb) == 0;
  /* The target may have changed while the set was made. */
  if ((st = rf_products_check(o->dir, &empty))) return st;
  if (exists && S_ISDIR(sb.st_mode)) chmod(o->tmp, sb.st_mode & 07777); /* keep the folder's mode */
  if ((st = rf__marker_write(o->tmp, "complete"))) return st;
  rf_fsync_dir(o->tmp);
  rf__test_delay();
  if (!exists) {
    if (rename(o->tmp, o->dir) < 0)
      return rf__err(RF_EIO, "%s: cannot rename the new products into place: %s", o->dir, strerror(errno));
    o->switched = 1;
    rf_fsync_dir(o->parent);
    return 0;
  }
  int exchanged = !getenv("RF_TEST_NO_EXCHANGE") &&
                  renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->dir, RENAME_EXCHANGE) == 0;
  if (exchanged) {
    /* o->tmp now holds the old set. */
    o->switched = 1;
    rf_fsync_dir(o->parent);
    rf__test_delay();
    if (rf__remove_owned(o->tmp))
      rf_log(1, "radarflow: warning: %s: left beside the new products (it holds files radarflow did not write)",
             o->tmp);
    return 0;
  }
  /* No exchange on this file system: old set aside, new set in. A kill
   * between the two renames is recovered by the next run (rf__recover). */
  if (rename(o->dir, o->old) < 0)
    return rf__err(RF_EIO, "%s: cannot move the old products aside: %s", o->dir, strerror(errno));
  rf__test_delay();
  if (rename(o->tmp, o->dir) < 0) {
    int e = errno;
    rename(o->old, o->dir);
    return rf__err(RF_EIO, "%s: cannot rename the new products into place: %s", o->dir, strerror(e));
  }
  o->switched = 1;
  rf_fsync_dir(o->parent);
  rf__test_delay();
  if (rf__remove_owned(o->old))
    rf_log(1, "radarflow: warning: %s: left beside the new products (it holds files radarflow did not write)", o->old);
  return 0;
}

void rf_outset_destroy(rf_outset *o) {
  if (!o) return;
  if (o->made && !o->switched) rf__remove_temp(o->tmp);
  rf__free(o);
}
