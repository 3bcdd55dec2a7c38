/* radarflow: general file utilities (rf_files.h). */
#include "rf_files.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest folder name rf_mkdirs and the folder fsync handle. */
#define RF__DIR_MAX 4096
/* Read size of rf_slurp. */
#define RF__SLURP_CHUNK ((size_t)64 << 10)

int rf_path_join(char *out, size_t len, const char *dir, const char *name) {
  size_t dl = strlen(dir);
  const char *sep = dl && dir[dl - 1] != '/' ? "/" : "";
  int n = snprintf(out, len, "%s%s%s", dir, sep, name);
  if (n < 0 || (size_t)n >= len) {
    if (len) out[0] = 0;
    return rf__err(RF_EINVAL, "%s%s%s: path too long", dir, sep, name);
  }
  return 0;
}

int rf_path_absolute(const char *path, char *out, size_t len) {
  char *r = realpath(path, NULL);
  int n = -1;
  if (r) {
    n = snprintf(out, len, "%s", r);
    free(r);
  } else if (path[0] == '/') {
    n = snprintf(out, len, "%s", path);
  } else {
    char cwd[RF__DIR_MAX];
    if (getcwd(cwd, sizeof cwd)) return rf_path_join(out, len, cwd, path);
    n = snprintf(out, len, "%s", path);
  }
  if (n < 0 || (size_t)n >= len) {
    if (len) snprintf(out, len, "%s", path);
    return rf__err(RF_EINVAL, "%s: path too long", path);
  }
  return 0;
}

int rf_has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && strcasecmp(path + n - e, ext) == 0;
}

int rf_mkdirs(const char *dir) {
  char buf[RF__DIR_MAX];
  if (strlen(dir) >= sizeof buf) return rf__err(RF_EINVAL, "%s: path too long", dir);
  strcpy(buf, dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0777) && errno != EEXIST)
      return rf__err(RF_EIO, "%s: cannot create folder: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0777) && errno != EEXIST)
    return rf__err(RF_EIO, "%s: cannot create folder: %s", buf, strerror(errno));
  struct stat st;
  if (stat(buf, &st) || !S_ISDIR(st.st_mode)) return rf__err(RF_EIO, "%s: not a folder", buf);
  return 0;
}

static int rf__remove_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

int rf_remove_tree(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) < 0) return errno == ENOENT ? 0 : -1;
  return nftw(path, rf__remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int rf_slurp(const char *path, size_t limit, char **text, size_t *len) {
  *text = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return rf__err(RF_EFORMAT, "%s: cannot open: %s", path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int st = 0;
  for (;;) {
    if (n + RF__SLURP_CHUNK + 1 > cap) {
      size_t want = cap ? 2 * cap : 2 * RF__SLURP_CHUNK;
      char *p = rf__realloc(buf, want);
      if (!p) {
        st = rf__err(RF_ENOMEM, "%s: out of memory", path);
        break;
      }
      buf = p;
      cap = want;
    }
    size_t r = fread(buf + n, 1, RF__SLURP_CHUNK, f);
    n += r;
    if (n > limit) {
      st = rf__err(RF_EFORMAT, "%s: longer than %zu bytes", path, limit);
      break;
    }
    if (r < RF__SLURP_CHUNK) {
      if (ferror(f)) st = rf__err(RF_EFORMAT, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
      break;
    }
  }
  int e = errno;
  fclose(f);
  errno = e;
  if (st) {
    rf__free(buf);
    return st;
  }
  buf[n] = 0;
  *text = buf;
  if (len) *len = n;
  return 0;
}

/* ---- atomic writes ----------------------------------------------------------------- */
static atomic_uint rf__tmp_counter;

char *rf_tmp_path(const char *path) {
  unsigned k = atomic_fetch_add(&rf__tmp_counter, 1u);
  size_t n = strlen(path) + 48;
  char *t = rf__malloc(n);
  if (t) snprintf(t, n, "%s.tmp.%ld.%u", path, (long)getpid(), k);
  return t;
}

void rf_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* fsync of the folder that holds path. */
static void rf__fsync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[RF__DIR_MAX];
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else if ((size_t)(slash - path) < sizeof dir) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  else return;
  rf_fsync_dir(dir);
}

void rf_writeback_note(rf_writeback *w, size_t bytes) {
  if (w->fd < 0) return;
  w->total += bytes;
  if (w->total - w->behind < RF_WRITEBACK_BYTES) return;
#ifdef POSIX_FADV_DONTNEED
  if (w->behind) (void)posix_fadvise(w->fd, 0, (off_t)w->behind, POSIX_FADV_DONTNEED);
#endif
#ifdef SYNC_FILE_RANGE_WRITE
  (void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
  w->behind = w->total;
}

int rf_commit_tmp(const char *tmp, const char *path) {
  int fd = open(tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    return rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(e));
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return rf__err(RF_EIO, "%s: cannot write: rename: %s", path, strerror(e));
  }
  rf__fsync_parent(path);
  return 0;
}

int rf_write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int rf_write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp;
  int fd = -1, st = 0;
  if (!path || (len && !data)) return rf__err(RF_EINVAL, "write file: bad arguments");
  if (!(tmp = rf_tmp_path(path))) return rf__err(RF_ENOMEM, "%s: out of memory", path);
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) goto fail;
  if (rf_write_all(fd, data, len) < 0) goto fail;
  int cr = close(fd);
  fd = -1;
  if (cr < 0) goto fail;
  st = rf_commit_tmp(tmp, path); /* fsyncs, renames, removes tmp on failure */
  rf__free(tmp);
  return st;
fail:
  st = rf__err(RF_EIO, "%s: cannot write: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
  unlink(tmp);
  rf__free(tmp);
  return st;
}
