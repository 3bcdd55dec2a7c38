/* radarflow: batch bookkeeping (rf_batch.h) - inputs, shards, resume markers,
 * one capture into a temporary folder renamed into place, summaries. */
#include "rf_batch.h"
#include "rf_pipeline.h"
#include "../host/rf_files.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define RF__PATH_MAX 4096
/* Largest manifest and shard summary read; marker and run.json files. */
#define RF__BIG_TEXT_MAX ((size_t)1 << 30)
#define RF__SMALL_TEXT_MAX ((size_t)16 << 20)

static const char *const rf__status_names[] = {"pending", "done", "skipped", "failed", "interrupted"};

const char *rf_batch_status_name(int s) {
  return s >= 0 && s <= RF_BATCH_INTERRUPTED ? rf__status_names[s] : "unknown";
}

static int rf__status_from_name(const char *s) {
  for (int i = 0; i <= RF_BATCH_INTERRUPTED; i++)
    if (s && !strcmp(s, rf__status_names[i])) return i;
  return -1;
}

/* ---- input expansion -------------------------------------------------------------- */
typedef struct rf__entry {
  char *path;
  char *real; /* realpath, or NULL when the file is missing */
  int dup;
} rf__entry;

typedef struct rf__entries {
  rf__entry *v;
  size_t n, cap;
} rf__entries;

static int rf__entries_add(rf__entries *e, const char *path) {
  if (e->n == e->cap) {
    size_t cap = e->cap ? 2 * e->cap : 64;
    rf__entry *v = rf__realloc(e->v, cap * sizeof *v);
    if (!v) return rf__err(RF_ENOMEM, "batch: out of memory");
    e->v = v;
    e->cap = cap;
  }
  rf__entry *x = &e->v[e->n];
  memset(x, 0, sizeof *x);
  if (!(x->path = rf__strdup(path))) return rf__err(RF_ENOMEM, "batch: out of memory");
  char *r = realpath(path, NULL); /* libc heap */
  if (r && !(x->real = rf__strdup(r))) {
    free(r);
    rf__free(x->path);
    return rf__err(RF_ENOMEM, "batch: out of memory");
  }
  free(r);
  e->n++;
  return 0;
}

/* The *.h5 regular files of a folder (not hidden, not recursive). */
static int rf__add_folder(rf__entries *e, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return rf__err(RF_EINVAL, "%s: cannot read folder: %s", dir, strerror(errno));
  struct dirent *de;
  char p[RF__PATH_MAX];
  int st = 0;
  while (!st && (de = readdir(d))) {
    struct stat sb;
    if (de->d_name[0] == '.' || !rf_has_ext(de->d_name, ".h5")) continue;
    if (rf_path_join(p, sizeof p, dir, de->d_name)) {
      st = rf__err(RF_EINVAL, "%s/%s: path too long", dir, de->d_name);
      break;
    }
    if (stat(p, &sb) == 0 && !S_ISREG(sb.st_mode)) continue;
    st = rf__entries_add(e, p);
  }
  closedir(d);
  return st;
}

/* A file is a manifest unless it is named .h5 or .hdf5, starts with the HDF5
 * signature or holds a NUL in its first 4 KiB. */
static int rf__looks_like_manifest(const char *path) {
  if (rf_has_ext(path, ".h5") || rf_has_ext(path, ".hdf5")) return 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  char b[4096];
  ssize_t n = read(fd, b, sizeof b);
  close(fd);
  if (n <= 0) return 0;
  if (n >= 8 && !memcmp(b, "\x89HDF\r\n\x1a\n", 8)) return 0;
  return memchr(b, 0, (size_t)n) == NULL;
}

static int rf__add_manifest(rf__entries *e, const char *path) {
  char *txt, dir[RF__PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
  if (dl >= sizeof dir) return rf__err(RF_EINVAL, "%s: path too long", path);
  snprintf(dir, sizeof dir, "%.*s", (int)dl, slash ? path : "");
  if (!slash) snprintf(dir, sizeof dir, ".");
  int st = rf_slurp(path, RF__BIG_TEXT_MAX, &txt, NULL);
  if (st) return st;
  size_t lineno = 0;
  for (char *line = txt, *next; line && !st; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    lineno++;
    while (*line == ' ' || *line == '\t') line++;
    size_t l = strlen(line);
    while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r')) line[--l] = 0;
    if (!l || line[0] == '#') continue;
    char p[RF__PATH_MAX];
    if (rf_path_join(p, sizeof p, line[0] == '/' ? "" : dir, line)) {
      st = rf__err(RF_EINVAL, "%s:%zu: path too long", path, lineno);
      break;
    }
    struct stat sb;
    /* A listed file that is missing stays in the list and fails on its own. */
    if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) st = rf__add_folder(e, p);
    else st = rf__entries_add(e, p);
  }
  rf__free(txt);
  return st;
}

static int rf__cmp_path(const void *a, const void *b) {
  return strcmp(((const rf__entry *)a)->path, ((const rf__entry *)b)->path);
}

/* Positions into an entry array (qsort_r context), by real path. */
static int rf__cmp_real(const void *a, const void *b, void *ctx) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  const rf__entry *v = ctx;
  const char *x = v[i].real ? v[i].real : "", *y = v[j].real ? v[j].real : "";
  int c = strcmp(x, y);
  return c ? c : i < j ? -1 : i > j;
}

/* Open-addressing set of names, for unique product folder names. */
typedef struct rf__nameset {
  const char **slot;
  size_t cap;
} rf__nameset;

static int rf__nameset_add(rf__nameset *s, const char *name) {
  uint64_t h = rf_fnv1a64(RF_FNV1A64_INIT, name, strlen(name));
  for (size_t i = (size_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (!s->slot[i]) {
      s->slot[i] = name;
      return 1;
    }
    if (!strcmp(s->slot[i], name)) return 0;
  }
}

static int rf__nameset_has(const rf__nameset *s, const char *name) {
  uint64_t h = rf_fnv1a64(RF_FNV1A64_INIT, name, strlen(name));
  for (size_t i = (size_t)h & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
    if (!strcmp(s->slot[i], name)) return 1;
  return 0;
}

static int rf__nameset_init(rf__nameset *s, size_t n) {
  s->cap = 16;
  while (s->cap < 2 * n + 16) s->cap *= 2;
  s->slot = rf__calloc(s->cap, sizeof *s->slot);
  return s->slot ? 0 : rf__err(RF_ENOMEM, "batch: out of memory");
}

/* The product folder name of a capture path: its file name without .h5,
 * made safe (no leading '.', not a summary file name). */
static char *rf__base_name(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t n = strlen(b);
  if (rf_has_ext(b, ".h5") && n > 3) n -= 3;
  char *s = rf__malloc(n + 2);
  if (!s) return NULL;
  int pre = b[0] == '.' || !strncmp(b, "summary.", 8) || n == 0;
  if (pre) s[0] = '_';
  memcpy(s + pre, b, n);
  s[n + pre] = 0;
  return s;
}

void rf_batch_list_free(rf_batch_list *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) {
    rf__free(l->v[i].input);
    rf__free(l->v[i].name);
  }
  rf__free(l->v);
  memset(l, 0, sizeof *l);
}

/* The captures the command line names: files, folders' *.h5, manifests. */
static int rf__gather_inputs(rf__entries *e, const char *const *inputs, size_t n_inputs, const char *manifest) {
  int st = 0;
  for (size_t i = 0; i < n_inputs && !st; i++) {
    struct stat sb;
    if (stat(inputs[i], &sb) < 0)
      st = rf__err(RF_EINVAL, "%s: %s", inputs[i], strerror(errno));
    else if (S_ISDIR(sb.st_mode)) st = rf__add_folder(e, inputs[i]);
    else if (S_ISREG(sb.st_mode) && rf__looks_like_manifest(inputs[i])) st = rf__add_manifest(e, inputs[i]);
    else st = rf__entries_add(e, inputs[i]);
  }
  if (!st && manifest) {
    struct stat sb;
    if (stat(manifest, &sb) < 0 || !S_ISREG(sb.st_mode))
      st = rf__err(RF_EINVAL, "%s: manifest: %s", manifest, errno ? strerror(errno) : "not a file");
    else st = rf__add_manifest(e, manifest);
  }
  return st;
}

/* Sorts by path and drops repeats: the same path, or the same file under
 * another path (symlinks, ./, ..); the first in path order is kept. Same
 * paths are neighbours after the sort; same files are found by sorting
 * positions by real path. Hard links are different paths and are kept. */
static int rf__drop_repeats(rf__entries *e) {
  qsort(e->v, e->n, sizeof *e->v, rf__cmp_path);
  if (e->n) {
    size_t *ix = rf__malloc(e->n * sizeof *ix);
    if (!ix) return rf__err(RF_ENOMEM, "batch: out of memory");
    for (size_t i = 0; i < e->n; i++) ix[i] = i;
    qsort_r(ix, e->n, sizeof *ix, rf__cmp_real, e->v);
    for (size_t i = 1; i < e->n; i++) {
      const rf__entry *x = &e->v[ix[i - 1]], *y = &e->v[ix[i]];
      if (x->real && y->real && !strcmp(x->real, y->real)) e->v[ix[i]].dup = 1;
    }
    rf__free(ix);
    for (size_t i = 1; i < e->n; i++)
      if (!strcmp(e->v[i - 1].path, e->v[i].path)) e->v[i].dup = 1;
  }
  size_t kept = 0;
  for (size_t i = 0; i < e->n; i++) {
    rf__free(e->v[i].real);
    e->v[i].real = NULL;
    if (e->v[i].dup) {
      rf__free(e->v[i].path);
      continue;
    }
    e->v[kept++] = e->v[i];
  }
  e->n = kept;
  return 0;
}

/* The list's items, each with a unique product folder name: the first
 * holder of a name keeps it, later ones get -2, -3, ... */
static int rf__name_items(rf_batch_list *l, rf__entries *e) {
  rf__nameset names = {0};
  int st;
  if (e->n && !(l->v = rf__calloc(e->n, sizeof *l->v))) return rf__err(RF_ENOMEM, "batch: out of memory");
  if ((st = rf__nameset_init(&names, e->n))) return st;
  for (size_t i = 0; i < e->n && !st; i++) {
    rf_batch_item *it = &l->v[i];
    it->index = i;
    it->input = e->v[i].path;
    e->v[i].path = NULL;
    l->n = i + 1;
    char *base = rf__base_name(it->input), *cand = base;
    for (unsigned k = 2; cand && !rf__nameset_add(&names, cand); k++) {
      if (cand != base) rf__free(cand);
      size_t n = strlen(base) + 16;
      if ((cand = rf__malloc(n))) snprintf(cand, n, "%s-%u", base, k);
    }
    if (cand != base) rf__free(base);
    if (!(it->name = cand)) st = rf__err(RF_ENOMEM, "batch: out of memory");
  }
  l->total = l->n;
  rf__free(names.slot);
  return st;
}

int rf_batch_expand(rf_batch_list *l, const char *const *inputs, size_t n_inputs,
                    const char *manifest) {
  rf__entries e = {0};
  memset(l, 0, sizeof *l);
  int st = rf__gather_inputs(&e, inputs, n_inputs, manifest);
  if (!st) st = rf__drop_repeats(&e);
  if (!st) st = rf__name_items(l, &e);
  for (size_t i = 0; i < e.n; i++) {
    rf__free(e.v[i].path);
    rf__free(e.v[i].real);
  }
  rf__free(e.v);
  if (st) rf_batch_list_free(l);
  return st;
}

int rf_batch_parse_shard(const char *text, size_t *k, size_t *n) {
  unsigned long long a, b;
  int used = 0;
  if (!text || sscanf(text, "%llu/%llu%n", &a, &b, &used) != 2 || text[used] || text[0] == '-' ||
      strchr(text, '-') || b < 1 || a >= b)
    return rf__err(RF_EINVAL, "--shard %s: expected K/N with 0 <= K < N", text ? text : "");
  *k = (size_t)a;
  *n = (size_t)b;
  return 0;
}

void rf_batch_shard(rf_batch_list *l, size_t k, size_t n) {
  size_t kept = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i].index % n == k) {
      l->v[kept++] = l->v[i];
    } else {
      rf__free(l->v[i].input);
      rf__free(l->v[i].name);
    }
  }
  l->n = kept;
}

/* ---- fingerprints ------------------------------------------------------------------ */
int rf_batch_fingerprint_file(const char *path, rf_batch_fingerprint *fp) {
  memset(fp, 0, sizeof *fp);
  /* O_NONBLOCK: a FIFO among the inputs must not hang the batch. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  int st = 0;
  unsigned char *buf = NULL;
  if (fstat(fd, &sb) < 0) {
    st = rf__err(RF_EFORMAT, "%s: cannot stat: %s", path, strerror(errno));
    goto done;
  }
  if (!S_ISREG(sb.st_mode)) {
    st = rf__err(RF_EFORMAT, "%s: not a regular file", path);
    goto done;
  }
  fp->size_bytes = (uint64_t)sb.st_size;
  fp->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
  if (!(buf = rf__malloc(RF_BATCH_HASH_BYTES))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  uint64_t h = rf_fnv1a64(RF_FNV1A64_INIT, &fp->size_bytes, sizeof fp->size_bytes);
  off_t size = sb.st_size, at[2] = {0, size > (off_t)RF_BATCH_HASH_BYTES ? size - (off_t)RF_BATCH_HASH_BYTES : 0};
  for (int part = 0; part < 2; part++) {
    size_t want = size - at[part] < (off_t)RF_BATCH_HASH_BYTES ? (size_t)(size - at[part]) : RF_BATCH_HASH_BYTES;
    size_t got = 0;
    while (got < want) {
      ssize_t r = pread(fd, buf + got, want - got, at[part] + (off_t)got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        st = rf__err(RF_EFORMAT, "%s: cannot read: %s", path, r < 0 ? strerror(errno) : "file shrank");
        goto done;
      }
      got += (size_t)r;
    }
    h = rf_fnv1a64(h, buf, got);
  }
  fp->header_hash = h;
done:
  rf__free(buf);
  close(fd);
  return st;
}

uint64_t rf_batch_config_hash(const rf_config *cfg) {
  rf_config c = *cfg;
  c.threads = 0;
  char *ini = rf_config_to_ini(&c);
  if (!ini) return 0;
  uint64_t h = rf_fnv1a64(RF_FNV1A64_INIT, ini, strlen(ini));
  rf__free(ini);
  return h;
}

static void rf__hex64(uint64_t v, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)v); }

/* ---- resume ------------------------------------------------------------------------- */
/* A JSON file that may be absent or damaged: NULL then, and the thread's
 * message is left as it was (a failed look is not this run's error). */
static cJSON *rf__read_json(const char *path, size_t limit) {
  char saved[1024], *txt;
  snprintf(saved, sizeof saved, "%s", rf_errmsg());
  int saved_errno = errno;
  cJSON *j = rf_slurp(path, limit, &txt, NULL) ? NULL : cJSON_Parse(txt);
  if (!j) {
    rf__err(0, "%s", saved);
    errno = saved_errno;
  }
  rf__free(txt);
  return j;
}

static double rf__num(const cJSON *o, const char *k, double def) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(x) ? x->valuedouble : def;
}

static const char *rf__str(const cJSON *o, const char *k) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Fills counts and device from a product folder's run.json, when present. */
static void rf__read_run_json(const char *dir, rf_batch_result *res) {
  char p[RF__PATH_MAX];
  if (rf_path_join(p, sizeof p, dir, "run.json")) return;
  cJSON *r = rf__read_json(p, RF__SMALL_TEXT_MAX);
  if (!r) return;
  res->dwells = (size_t)rf__num(r, "dwells", (double)res->dwells);
  res->plots = (size_t)rf__num(r, "plots", (double)res->plots);
  res->tracks = (long long)rf__num(r, "tracks", (double)res->tracks);
  const char *dev = rf__str(r, "device");
  if (dev) snprintf(res->device, sizeof res->device, "%s", dev);
  cJSON_Delete(r);
}

int rf_batch_check_resume(const char *root, const rf_batch_item *it, uint64_t config_hash,
                          rf_batch_result *res) {
  char dir[RF__PATH_MAX], p[RF__PATH_MAX], hex[17];
  if (rf_path_join(dir, sizeof dir, root, it->name) || rf_path_join(p, sizeof p, dir, RF_BATCH_MARKER)) return 0;
  cJSON *m = rf__read_json(p, RF__SMALL_TEXT_MAX);
  int ok = 0;
  rf_batch_fingerprint fp;
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(m, "input");
  const cJSON *prods = cJSON_GetObjectItemCaseSensitive(m, "products"), *pr;
  const char *ver = rf__str(m, "version"), *ch = rf__str(m, "config_hash"), *hh = rf__str(in, "header_hash");
  rf__hex64(config_hash, hex);
  if (!m || !ver || strcmp(ver, RF_VERSION) || !ch || strcmp(ch, hex) || !hh || !cJSON_IsArray(prods))
    goto done;
  int saved_errno = errno;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", rf_errmsg());
  int fst = rf_batch_fingerprint_file(it->input, &fp);
  rf__err(0, "%s", msg); /* a failed look here is not this run's error */
  errno = saved_errno;
  if (fst) goto done;
  rf__hex64(fp.header_hash, hex);
  if (rf__num(in, "size_bytes", -1) != (double)fp.size_bytes ||
      rf__num(in, "mtime_s", -1) != (double)(fp.mtime_ns / 1000000000) ||
      rf__num(in, "mtime_nsec", -1) != (double)(fp.mtime_ns % 1000000000) || strcmp(hh, hex))
    goto done;
  cJSON_ArrayForEach(pr, prods) {
    const char *n = rf__str(pr, "name");
    struct stat sb;
    if (!n || strchr(n, '/') || rf_path_join(p, sizeof p, dir, n) || stat(p, &sb) < 0 ||
        (double)sb.st_size != rf__num(pr, "size_bytes", -1))
      goto done;
  }
  memset(res, 0, sizeof *res);
  res->status = RF_BATCH_SKIPPED;
  res->tracks = -1;
  res->worker = -1;
  res->input_bytes = fp.size_bytes;
  rf__read_run_json(dir, res);
  ok = 1;
done:
  cJSON_Delete(m);
  return ok;
}

/* ---- one capture ------------------------------------------------------------------- */
static int rf__cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The marker: what the products were made from, and every product file with
 * its size. Written last, so its presence means the folder is complete. */
static int rf__write_marker(const char *dir, const char *input, const rf_batch_fingerprint *fp,
                            uint64_t config_hash) {
  char p[RF__PATH_MAX], hex[17];
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  cJSON *root = NULL;
  char *txt = NULL;
  int st = 0;
  if (!d) return rf__err(RF_EIO, "%s: cannot read folder: %s", dir, strerror(errno));
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.' || !strcmp(de->d_name, RF_BATCH_MARKER)) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      char **nn = rf__realloc(names, cap * sizeof *nn);
      if (!nn) {
        st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
        goto done;
      }
      names = nn;
    }
    if (!(names[n] = rf__strdup(de->d_name))) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
      goto done;
    }
    n++;
  }
  qsort(names, n, sizeof *names, rf__cmp_str);
  root = cJSON_CreateObject();
  cJSON *in = cJSON_AddObjectToObject(root, "input");
  cJSON *prods = cJSON_AddArrayToObject(root, "products");
  if (!root || !in || !prods) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
    goto done;
  }
  cJSON_AddStringToObject(root, "program", "radarflow");
  cJSON_AddStringToObject(root, "version", RF_VERSION);
  rf__hex64(config_hash, hex);
  cJSON_AddStringToObject(root, "config_hash", hex);
  cJSON_AddStringToObject(in, "path", input);
  cJSON_AddNumberToObject(in, "size_bytes", (double)fp->size_bytes);
  /* Seconds and nanoseconds apart: each is exact as a JSON number, while
   * nanoseconds since 1970 (~1.7e18) are not. */
  cJSON_AddNumberToObject(in, "mtime_s", (double)(fp->mtime_ns / 1000000000));
  cJSON_AddNumberToObject(in, "mtime_nsec", (double)(fp->mtime_ns % 1000000000));
  rf__hex64(fp->header_hash, hex);
  cJSON_AddStringToObject(in, "header_hash", hex);
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (rf_path_join(p, sizeof p, dir, names[i]) || stat(p, &sb) < 0) {
      st = rf__err(RF_EIO, "%s/%s: cannot stat: %s", dir, names[i], strerror(errno));
      goto done;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
      st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
      goto done;
    }
    cJSON_AddItemToArray(prods, o);
    cJSON_AddStringToObject(o, "name", names[i]);
    cJSON_AddNumberToObject(o, "size_bytes", (double)sb.st_size);
  }
  if (!(txt = cJSON_Print(root))) {
    st = rf__err(RF_ENOMEM, "%s: out of memory", dir);
    goto done;
  }
  if (rf_path_join(p, sizeof p, dir, RF_BATCH_MARKER)) {
    st = rf__err(RF_EINVAL, "%s: path too long", dir);
    goto done;
  }
  st = rf_write_file_atomic(p, txt, strlen(txt));
done:
  if (txt) cJSON_free(txt);
  cJSON_Delete(root);
  for (size_t i = 0; i < n; i++) rf__free(names[i]);
  rf__free(names);
  closedir(d);
  return st;
}

int rf_batch_process_one(const char *root, const char *input, const char *name,
                         const rf_config *cfg, const char *device, uint64_t config_hash,
                         rf_batch_result *res) {
  char final[RF__PATH_MAX];
  rf_batch_fingerprint fp;
  rf_run_summary sum;
  rf_outset *o = NULL;
  double t0 = rf_now_s();
  int st;
  memset(res, 0, sizeof *res);
  res->tracks = -1;
  res->worker = -1;
  rf_errmsg_clear();
  if (rf_path_join(final, sizeof final, root, name)) {
    st = rf__err(RF_EINVAL, "%s: output path too long", name);
    goto done;
  }
  if ((st = rf_batch_fingerprint_file(input, &fp))) goto done;
  res->input_bytes = fp.size_bytes;
  /* The folder is replaced only when radarflow wrote it; the products go
   * into root/.<name>.tmp.<host>.<pid> and are switched in whole. */
  if ((st = rf_outset_create(&o, final, &input, 1, RF_OUTSET_NO_CLEAN))) goto done;
  const char *tmp = rf_outset_tmpdir(o);
  if ((st = rf_process_capture_into(input, tmp, rf_outset_dir(o), cfg, device, &sum))) goto done;
  res->dwells = sum.dwells;
  res->plots = sum.plots;
  res->dsp_seconds = 0;
  for (int i = 0; i < RF_STAGE_COUNT; i++)
    if (i != RF_STAGE_read) res->dsp_seconds += sum.stage_s[i];
  res->io_seconds = sum.stage_s[RF_STAGE_read] + sum.write_s;
  rf__read_run_json(tmp, res);
  if ((st = rf__write_marker(tmp, input, &fp, config_hash))) goto done;
  if (rf_cancel) {
    st = rf__err(RF_EINTR, "%s: interrupted; nothing written", input);
    goto done;
  }
  if ((st = rf_outset_commit(o))) goto done;
  res->status = RF_BATCH_DONE;
done:
  rf_outset_destroy(o);
  res->seconds = rf_now_s() - t0;
  if (st) {
    res->status = st == RF_EINTR ? RF_BATCH_INTERRUPTED : RF_BATCH_FAILED;
    res->code = st;
    const char *m = rf_errmsg();
    snprintf(res->error, sizeof res->error, "%s", m[0] ? m : rf_strerror(st));
  }
  return st;
}

int rf_batch_prepare_root(const char *root) {
  int st = rf_mkdirs(root);
  if (st) return st;
  const char *buf = root;
  /* access() reports a read-only mount (EROFS) even to root. */
  if (access(buf, W_OK | X_OK) < 0)
    return rf__err(RF_EIO, "%s: output folder is not writable: %s", buf, strerror(errno));
  return 0;
}

size_t rf_batch_clean_stale(const char *root, const rf_batch_list *l) {
  rf__nameset set = {0}, done_names = {0};
  size_t removed = 0;
  DIR *d = NULL;
  char host[64];
  rf_host_name(host, sizeof host);
  if (!l->n || rf__nameset_init(&set, l->n) || rf__nameset_init(&done_names, l->n)) goto done;
  for (size_t i = 0; i < l->n; i++) rf__nameset_add(&set, l->v[i].name);
  if (!(d = opendir(root))) goto done;
  struct dirent *de;
  while ((de = readdir(d))) {
    char name[1024], h[256], p[RF__PATH_MAX];
    long pid;
    int old;
    if (rf_outset_parse_temp(de->d_name, name, sizeof name, h, sizeof h, &pid, &old) || !rf__nameset_has(&set, name))
      continue;
    /* Another host's (shards on a shared file system) or a live process's. */
    if (strcmp(h, host) || pid == (long)getpid() || rf_pid_alive(pid)) continue;
    const char *const *slot = NULL;
    for (size_t i = 0; i < l->n && !slot; i++)
      if (!strcmp(l->v[i].name, name)) slot = (const char *const *)&l->v[i].name;
    if (!slot || !rf__nameset_add(&done_names, *slot)) continue;
    /* Recovers a switch killed half way, then removes its temporaries. */
    if (!rf_path_join(p, sizeof p, root, name)) removed += rf_outset_clean_stale(p);
  }
done:
  if (d) closedir(d);
  rf__free(set.slot);
  rf__free(done_names.slot);
  return removed;
}


/* ---- outputs never over inputs ------------------------------------------------------- */
int rf_batch_protect_inputs(rf_batch_list *l, const char *root) {
  char rr[PATH_MAX];
  if (!l->n || !realpath(root, rr)) return 0; /* a root yet to be made holds no input */
  size_t rl = strlen(rr);
  rf__nameset taken = {0}, inputs = {0};
  char **firsts = rf__calloc(l->n, sizeof *firsts);
  int st = 0;
  if (!firsts || rf__nameset_init(&taken, 2 * l->n) || rf__nameset_init(&inputs, l->n)) {
    st = rf__err(RF_ENOMEM, "batch: out of memory");
    goto done;
  }
  /* The first path component below root of every input inside root. */
  for (size_t i = 0; i < l->n; i++) {
    char r[PATH_MAX];
    rf__nameset_add(&taken, l->v[i].name);
    if (!realpath(l->v[i].input, r) || strncmp(r, rr, rl) || (r[rl] != '/' && strcmp(rr, "/"))) continue;
    const char *c = r + (strcmp(rr, "/") ? rl + 1 : 1);
    size_t n = strcspn(c, "/");
    if (!(firsts[i] = rf__malloc(n + 1))) {
      st = rf__err(RF_ENOMEM, "batch: out of memory");
      goto done;
    }
    memcpy(firsts[i], c, n);
    firsts[i][n] = 0;
    rf__nameset_add(&inputs, firsts[i]);
    rf__nameset_add(&taken, firsts[i]);
  }
  for (size_t i = 0; i < l->n && !st; i++) {
    if (!rf__nameset_has(&inputs, l->v[i].name)) continue;
    size_t n = strlen(l->v[i].name) + 16;
    char *cand = rf__malloc(n);
    if (!cand) {
      st = rf__err(RF_ENOMEM, "batch: out of memory");
      break;
    }
    for (unsigned k = 2;; k++) {
      snprintf(cand, n, "%s-%u", l->v[i].name, k);
      if (!rf__nameset_has(&taken, cand)) break;
    }
    rf_log(2, "batch: %s: products go to %s/%s (%s/%s is or holds an input)", l->v[i].input, root, cand, root,
           l->v[i].name);
    rf__free(l->v[i].name);
    l->v[i].name = cand;
    rf__nameset_add(&taken, cand);
  }
done:
  if (firsts)
    for (size_t i = 0; i < l->n; i++) rf__free(firsts[i]);
  rf__free(firsts);
  rf__free(taken.slot);
  rf__free(inputs.slot);
  return st;
}

int rf_batch_check_summary(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) < 0) return 0;
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", rf_errmsg());
  cJSON *j = S_ISREG(sb.st_mode) ? rf__read_json(path, RF__BIG_TEXT_MAX) : NULL;
  const char *prog = rf__str(j, "program");
  int ok = prog && !strcmp(prog, "radarflow") && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "captures"));
  cJSON_Delete(j);
  rf__err(0, "%s", saved);
  if (ok) return 0;
  return rf__err(RF_EINVAL, "%s: exists and is not a radarflow batch summary; radarflow never replaces it (choose "
                 "another output root)", path);
}

/* ---- results as JSON ------------------------------------------------------------- */
static void rf__result_fields(cJSON *o, const rf_batch_result *r) {
  cJSON_AddStringToObject(o, "status", rf_batch_status_name(r->status));
  if (r->status == RF_BATCH_FAILED || r->status == RF_BATCH_INTERRUPTED) {
    cJSON_AddStringToObject(o, "error", r->error);
    cJSON_AddStringToObject(o, "code", rf_err_name(r->code));
  }
  cJSON_AddNumberToObject(o, "dwells", (double)r->dwells);
  cJSON_AddNumberToObject(o, "plots", (double)r->plots);
  if (r->tracks >= 0) cJSON_AddNumberToObject(o, "tracks", (double)r->tracks);
  else cJSON_AddNullToObject(o, "tracks");
  cJSON_AddNumberToObject(o, "input_bytes", (double)r->input_bytes);
  cJSON_AddNumberToObject(o, "seconds", r->seconds);
  cJSON_AddStringToObject(o, "device", r->device);
  cJSON_AddNumberToObject(o, "dsp_seconds", r->dsp_seconds);
  cJSON_AddNumberToObject(o, "io_seconds", r->io_seconds);
}

char *rf_batch_result_to_json(const rf_batch_result *r) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  rf__result_fields(o, r);
  cJSON_AddNumberToObject(o, "code_value", r->code);
  char *t = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  char *out = t ? rf__strdup(t) : NULL;
  if (t) cJSON_free(t);
  return out;
}

int rf_batch_result_from_json(const char *text, rf_batch_result *r) {
  cJSON *o = cJSON_Parse(text);
  memset(r, 0, sizeof *r);
  r->tracks = -1;
  r->worker = -1;
  int s = rf__status_from_name(rf__str(o, "status"));
  if (!o || s < 0) {
    cJSON_Delete(o);
    return rf__err(RF_EFORMAT, "batch worker: unreadable answer");
  }
  r->status = s;
  r->code = (int)rf__num(o, "code_value", 0);
  const char *e = rf__str(o, "error"), *dev = rf__str(o, "device");
  if (e) snprintf(r->error, sizeof r->error, "%s", e);
  if (dev) snprintf(r->device, sizeof r->device, "%s", dev);
  r->dwells = (size_t)rf__num(o, "dwells", 0);
  r->plots = (size_t)rf__num(o, "plots", 0);
  r->tracks = (long long)rf__num(o, "tracks", -1);
  r->input_bytes = (uint64_t)rf__num(o, "input_bytes", 0);
  r->seconds = rf__num(o, "seconds", 0);
  r->dsp_seconds = rf__num(o, "dsp_seconds", 0);
  r->io_seconds = rf__num(o, "io_seconds", 0);
  cJSON_Delete(o);
  return 0;
}

/* ---- summaries ----------------------------------------------------------------------- */
int rf_batch_summary_path(char *out, size_t len, const char *root, size_t k, size_t n) {
  char name[128];
  if (n) snprintf(name, sizeof name, "summary.shard-%zu-of-%zu.json", k, n);
  else snprintf(name, sizeof name, "summary.json");
  return rf_path_join(out, len, root, name);
}

/* One capture into the totals. */
static void rf__count_one(rf_batch_totals *t, int status, size_t dwells, size_t plots) {
  t->captures++;
  switch (status) {
  case RF_BATCH_DONE: t->done++; break;
  case RF_BATCH_SKIPPED: t->skipped++; break;
  case RF_BATCH_FAILED: t->failed++; break;
  case RF_BATCH_INTERRUPTED: t->interrupted++; break;
  default: t->pending++; break;
  }
  t->dwells += dwells;
  t->plots += plots;
}

void rf_batch_count(const rf_batch_result *res, size_t n, rf_batch_totals *t) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < n; i++) rf__count_one(t, res[i].status, res[i].dwells, res[i].plots);
}

static void rf__add_totals(cJSON *root, const rf_batch_totals *t) {
  cJSON *o = cJSON_AddObjectToObject(root, "totals");
  cJSON_AddNumberToObject(o, "captures", (double)t->captures);
  cJSON_AddNumberToObject(o, "done", (double)t->done);
  cJSON_AddNumberToObject(o, "skipped", (double)t->skipped);
  cJSON_AddNumberToObject(o, "failed", (double)t->failed);
  cJSON_AddNumberToObject(o, "interrupted", (double)t->interrupted);
  cJSON_AddNumberToObject(o, "pending", (double)t->pending);
  cJSON_AddNumberToObject(o, "dwells", (double)t->dwells);
  cJSON_AddNumberToObject(o, "plots", (double)t->plots);
}

static int rf__write_json(const char *path, cJSON *root) {
  char *txt = cJSON_Print(root);
  if (!txt) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  size_t n = strlen(txt);
  txt[n] = '\n'; /* replaces the NUL: written with its length */
  int st = rf_write_file_atomic(path, txt, n + 1);
  cJSON_free(txt);
  return st;
}

int rf_batch_write_summary(const char *path, const rf_batch_list *l, const rf_batch_result *res,
                           const rf_batch_run_info *info) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  char when[32], hex[17];
  rf_utc_now(when, sizeof when);
  rf__hex64(info->config_hash, hex);
  rf_batch_totals t;
  rf_batch_count(res, l->n, &t);
  cJSON_AddStringToObject(root, "program", "radarflow");
  cJSON_AddStringToObject(root, "version", RF_VERSION);
  cJSON_AddStringToObject(root, "started_utc", info->started_utc ? info->started_utc : when);
  cJSON_AddStringToObject(root, "finished_utc", when);
  cJSON_AddNumberToObject(root, "seconds", info->seconds);
  cJSON_AddNumberToObject(root, "jobs", info->jobs);
  cJSON_AddNumberToObject(root, "threads_per_worker", info->threads);
  cJSON_AddStringToObject(root, "config_hash", hex);
  if (info->shard_n) {
    cJSON *s = cJSON_AddObjectToObject(root, "shard");
    cJSON_AddNumberToObject(s, "k", (double)info->shard_k);
    cJSON_AddNumberToObject(s, "n", (double)info->shard_n);
  } else {
    cJSON_AddNullToObject(root, "shard");
  }
  cJSON_AddNumberToObject(root, "total_inputs", (double)l->total);
  rf__add_totals(root, &t);
  cJSON *arr = cJSON_AddArrayToObject(root, "captures");
  for (size_t i = 0; i < l->n && arr; i++) {
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddItemToArray(arr, o);
    cJSON_AddNumberToObject(o, "index", (double)l->v[i].index);
    cJSON_AddStringToObject(o, "name", l->v[i].name);
    cJSON_AddStringToObject(o, "input", l->v[i].input);
    rf__result_fields(o, &res[i]);
  }
  int st = rf__write_json(path, root);
  cJSON_Delete(root);
  return st;
}

/* ---- merge --------------------------------------------------------------------------- */
static int rf__cmp_index(const void *a, const void *b) {
  double x = rf__num(*(cJSON *const *)a, "index", 0), y = rf__num(*(cJSON *const *)b, "index", 0);
  return x < y ? -1 : x > y;
}

/* The shard summaries of one OUTROOT, their captures gathered. */
typedef struct rf__merge {
  const char *root;
  size_t shard_n, found, total;  /* shards (N), summaries read, inputs of the whole list */
  unsigned char *have;           /* [shard_n] */
  cJSON **caps;                  /* [ncaps] detached capture entries */
  size_t ncaps, capcap;
  cJSON *first;                  /* the first summary read (its config_hash) */
} rf__merge;

static void rf__merge_free(rf__merge *m) {
  for (size_t i = 0; i < m->ncaps; i++) cJSON_Delete(m->caps[i]);
  rf__free(m->caps);
  rf__free(m->have);
  cJSON_Delete(m->first);
}

/* Moves the captures of shard summary s into m. */
static int rf__merge_take(rf__merge *m, cJSON *arr) {
  cJSON *c;
  while ((c = cJSON_DetachItemFromArray(arr, 0))) {
    if (m->ncaps == m->capcap) {
      size_t cap = m->capcap ? 2 * m->capcap : 256;
      cJSON **nc = rf__realloc(m->caps, cap * sizeof *nc);
      if (!nc) {
        cJSON_Delete(c);
        return rf__err(RF_ENOMEM, "batch-merge: out of memory");
      }
      m->caps = nc;
      m->capcap = cap;
    }
    m->caps[m->ncaps++] = c;
  }
  return 0;
}

/* Shard summary k of n, file `name` of the root. */
static int rf__merge_shard(rf__merge *m, const char *name, size_t k, size_t n) {
  char p[RF__PATH_MAX];
  int st;
  if (m->shard_n && n != m->shard_n)
    return rf__err(RF_EFORMAT, "%s/%s: shard summaries of %zu and %zu shards are mixed; remove the stale ones",
                   m->root, name, m->shard_n, n);
  if (!m->shard_n) {
    m->shard_n = n;
    if (!(m->have = rf__calloc(n, 1))) return rf__err(RF_ENOMEM, "batch-merge: out of memory");
  }
  if ((st = rf_path_join(p, sizeof p, m->root, name))) return st;
  cJSON *s = rf__read_json(p, RF__BIG_TEXT_MAX);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(s, "captures");
  double tot = rf__num(s, "total_inputs", -1);
  if (!s || !cJSON_IsArray(arr) || tot < 0)
    st = rf__err(RF_EFORMAT, "%s: /captures: not a batch summary", p);
  else if (m->found && (size_t)tot != m->total)
    st = rf__err(RF_EFORMAT, "%s: /total_inputs: %.0f, but other shards saw %zu inputs", p, tot, m->total);
  else
    st = rf__merge_take(m, (cJSON *)arr);
  if (st) {
    cJSON_Delete(s);
    return st;
  }
  m->total = (size_t)tot;
  m->have[k] = 1;
  m->found++;
  if (!m->first) m->first = s;
  else cJSON_Delete(s);
  return 0;
}

/* Every summary.shard-K-of-N.json of the root. */
static int rf__merge_read(rf__merge *m) {
  DIR *d = opendir(m->root);
  if (!d) return rf__err(RF_EINVAL, "%s: cannot read folder: %s", m->root, strerror(errno));
  struct dirent *de;
  int st = 0;
  while (!st && (de = readdir(d))) {
    size_t k, n;
    int used = 0;
    if (sscanf(de->d_name, "summary.shard-%zu-of-%zu.json%n", &k, &n, &used) != 2 || de->d_name[used] || n == 0 ||
        k >= n)
      continue;
    st = rf__merge_shard(m, de->d_name, k, n);
  }
  closedir(d);
  if (!st && !m->found) st = rf__err(RF_EINVAL, "%s: no summary.shard-K-of-N.json to merge", m->root);
  return st;
}

/* The captures in list order into arr, each once, counted into t. */
static int rf__merge_captures(rf__merge *m, cJSON *arr, rf_batch_totals *t, size_t *covered) {
  unsigned char *seen = NULL;
  if (m->total && !(seen = rf__calloc(m->total, 1))) return rf__err(RF_ENOMEM, "batch-merge: out of memory");
  qsort(m->caps, m->ncaps, sizeof *m->caps, rf__cmp_index);
  int st = 0;
  for (size_t i = 0; i < m->ncaps && !st; i++) {
    double ix = rf__num(m->caps[i], "index", -1);
    const char *name = rf__str(m->caps[i], "name");
    if (ix < 0 || ix >= (double)m->total || !name)
      st = rf__err(RF_EFORMAT, "%s: /captures/index: %.0f is outside 0..%zu", m->root, ix, m->total);
    else if (seen[(size_t)ix])
      st = rf__err(RF_EFORMAT, "%s: capture %s (index %.0f) is listed by two shards", m->root, name, ix);
    if (st) break;
    seen[(size_t)ix] = 1;
    (*covered)++;
    rf__count_one(t, rf__status_from_name(rf__str(m->caps[i], "status")), (size_t)rf__num(m->caps[i], "dwells", 0),
                  (size_t)rf__num(m->caps[i], "plots", 0));
    cJSON_AddItemToArray(arr, m->caps[i]);
    m->caps[i] = NULL;
  }
  rf__free(seen);
  return st;
}

int rf_batch_merge(const char *root, rf_batch_totals *t, size_t *missing) {
  rf__merge m = {.root = root};
  cJSON *out = NULL, *arr = NULL;
  size_t covered = 0;
  char p[RF__PATH_MAX], when[32];
  memset(t, 0, sizeof *t);
  *missing = 0;
  int st = rf__merge_read(&m);
  if (st) goto done;
  if (!(out = cJSON_CreateObject()) || !(arr = cJSON_CreateArray())) {
    st = rf__err(RF_ENOMEM, "batch-merge: out of memory");
    goto done;
  }
  if ((st = rf__merge_captures(&m, arr, t, &covered))) goto done;
  cJSON *miss = cJSON_CreateArray();
  for (size_t k = 0; k < m.shard_n; k++)
    if (!m.have[k]) {
      (*missing)++;
      cJSON_AddItemToArray(miss, cJSON_CreateNumber((double)k));
    }
  if (!*missing && covered != m.total) *missing = m.total - covered;
  rf_utc_now(when, sizeof when);
  const char *ch = rf__str(m.first, "config_hash");
  cJSON_AddStringToObject(out, "program", "radarflow");
  cJSON_AddStringToObject(out, "version", RF_VERSION);
  cJSON_AddStringToObject(out, "merged_utc", when);
  cJSON_AddStringToObject(out, "config_hash", ch ? ch : "");
  cJSON_AddNumberToObject(out, "shards", (double)m.shard_n);
  cJSON_AddItemToObject(out, "missing_shards", miss);
  cJSON_AddNumberToObject(out, "total_inputs", (double)m.total);
  cJSON_AddBoolToObject(out, "complete", *missing == 0 && covered == m.total);
  rf__add_totals(out, t);
  cJSON_AddItemToObject(out, "captures", arr);
  arr = NULL;
  if ((st = rf_batch_summary_path(p, sizeof p, root, 0, 0)) || (st = rf_batch_check_summary(p))) goto done;
  st = rf__write_json(p, out);
done:
  cJSON_Delete(arr);
  cJSON_Delete(out);
  rf__merge_free(&m);
  return st;
}
