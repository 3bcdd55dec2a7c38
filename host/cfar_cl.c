/* radarflow: stage 5 on an OpenCL device, fused with candidate compaction
 * (kernels/cfar.cl, kernels/compact.cl). Twin of rf_cfar_ca_ref / _go_ref /
 * _so_ref / _os_ref: the window and the threshold factors come from the
 * rf_cfar object, converted to float. The CA/GO/SO work-group is the tuning
 * row's cfar_tile, the kernels' RF_CFAR_TILE. */
#include "rf_cl.h"

typedef struct rf__cfar_geom { /* kernels/cfar.cl rf_cfar_geom */
  cl_uint beams, bins, cells, baz, bel;
  cl_uint w, gr, dko, dkg, rows, grows, nhalf;
} rf__cfar_geom;

struct rf_cfar_cl {
  rf_cl *cl;
  rf_cfar_tables t;
  rf__cfar_geom g;
  cl_mem alpha, os_k, os_norm;
  cl_kernel k;
  const char *name;
  cl_uint *zeros;          /* [1 + beams]: what the counters are cleared with */
  size_t tile, wg;
};

void rf_cfar_cl_destroy(rf_cfar_cl *c) {
  if (!c) return;
  if (c->k) clReleaseKernel(c->k);
  rf_cl_free(c->cl, c->alpha);
  rf_cl_free(c->cl, c->os_k);
  rf_cl_free(c->cl, c->os_norm);
  rf__free(c->zeros);
  rf__free(c);
}

int rf_cfar_cl_create(rf_cfar_cl **out, rf_cl *cl, const rf_cfar *ref, size_t beams, size_t beams_az) {
  *out = NULL;
  static const char *const names[] = {"rf_cfar_ca", "rf_cfar_go", "rf_cfar_so", "rf_cfar_os"};
  rf_cfar_cl *c = rf__calloc(1, sizeof *c);
  float *fa = NULL, *fn = NULL;
  cl_uint *ik = NULL;
  if (!c) return rf__err(RF_ENOMEM, "cfar (opencl): out of memory");
  c->cl = cl;
  rf_cfar_get_tables(ref, &c->t);
  const rf_cfar_tables *t = &c->t;
  c->name = names[t->kind];
  c->g = (rf__cfar_geom){(cl_uint)beams, (cl_uint)t->bins, (cl_uint)t->cells, (cl_uint)beams_az,
                         (cl_uint)(beams / beams_az), (cl_uint)t->w, (cl_uint)t->gr, (cl_uint)t->dko,
                         (cl_uint)t->dkg, (cl_uint)t->rows, (cl_uint)t->grows, (cl_uint)t->nhalf};
  int st = 0;
  size_t na = t->nmax + 1;
  c->tile = rf_cl_tuning_get(cl)->cfar_tile;
  c->wg = rf_cl_tuning_get(cl)->wg;
  c->zeros = rf__calloc(1 + beams, sizeof *c->zeros);
  fa = rf__calloc(na, sizeof *fa);
  fn = rf__calloc(na, sizeof *fn);
  ik = rf__calloc(na, sizeof *ik);
  if (!c->zeros || !fa || !fn || !ik) {
    st = rf__err(RF_ENOMEM, "cfar (opencl): out of memory");
    goto fail;
  }
  if (t->kind == RF_CFAR_GO || t->kind == RF_CFAR_SO) {
    fa[0] = (float)t->alpha_both;
    if (na > 1) fa[1] = (float)t->alpha_side;
  } else {
    for (size_t n = 0; n < na; n++) {
      fa[n] = (float)t->alpha[n];
      if (t->kind == RF_CFAR_OS) {
        fn[n] = (float)t->os_norm[n];
        ik[n] = (cl_uint)t->os_k[n];
      }
    }
  }
  cl_command_queue q = rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE);
  if ((st = rf_cl_alloc(cl, na * sizeof(float), CL_MEM_READ_ONLY, "CFAR factors", &c->alpha))) goto fail;
  cl_int e = clEnqueueWriteBuffer(q, c->alpha, CL_TRUE, 0, na * sizeof(float), fa, 0, NULL, NULL);
  if (e == CL_SUCCESS && t->kind == RF_CFAR_OS) {
    if ((st = rf_cl_alloc(cl, na * sizeof(float), CL_MEM_READ_ONLY, "OS CFAR norms", &c->os_norm)) ||
        (st = rf_cl_alloc(cl, na * sizeof(cl_uint), CL_MEM_READ_ONLY, "OS CFAR ranks", &c->os_k)))
      goto fail;
    e = clEnqueueWriteBuffer(q, c->os_norm, CL_TRUE, 0, na * sizeof(float), fn, 0, NULL, NULL);
    if (e == CL_SUCCESS) e = clEnqueueWriteBuffer(q, c->os_k, CL_TRUE, 0, na * sizeof(cl_uint), ik, 0, NULL, NULL);
  }
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "cfar: upload");
    goto fail;
  }
  if ((st = rf_cl_kernel(cl, c->name, &c->k))) goto fail;
  rf__free(fa);
  rf__free(fn);
  rf__free(ik);
  *out = c;
  return 0;
fail:
  rf__free(fa);
  rf__free(fn);
  rf__free(ik);
  rf_cfar_cl_destroy(c);
  return st;
}

int rf_cfar_cl_execute(rf_cfar_cl *c, cl_command_queue q, cl_mem power, cl_mem cand, size_t cap,
                       cl_mem count, cl_uint nwait, const cl_event *wait, cl_event *done) {
  const cl_uint acap = (cl_uint)cap;
  /* Cleared by a write rather than clEnqueueFillBuffer: oclgrind 21.10
   * loses track of what a fill initialised (each pattern-sized store of
   * the fill re-sizes its record of the buffer), and reports the counters
   * as uninitialised. */
  cl_int e = clEnqueueWriteBuffer(q, count, CL_FALSE, 0, (1 + c->g.beams) * sizeof(cl_uint), c->zeros, nwait,
                                  nwait ? wait : NULL, NULL);
  if (e != CL_SUCCESS) return rf__cl_err(e, "cfar: clear counters");
  int st;
  if (c->t.kind == RF_CFAR_OS) {
    st = rf_cl_args(c->k, c->name, 8, sizeof c->g, &c->g, sizeof(cl_mem), &c->alpha, sizeof(cl_mem), &c->os_k,
                    sizeof(cl_mem), &c->os_norm, sizeof(cl_mem), &power, sizeof(cl_mem), &cand, sizeof acap,
                    &acap, sizeof(cl_mem), &count);
    if (st) return st;
    size_t g[3] = {c->g.cells, c->g.bins, c->g.beams}, loc[3] = {c->wg, 1, 1};
    return rf_cl_run(c->cl, q, c->k, c->name, 3, g, loc, 0, NULL, done);
  }
  size_t tile = (c->tile + 2 * (size_t)c->g.w) * sizeof(float);
  st = rf_cl_args(c->k, c->name, 7, sizeof c->g, &c->g, sizeof(cl_mem), &c->alpha, tile, NULL, sizeof(cl_mem),
                  &power, sizeof(cl_mem), &cand, sizeof acap, &acap, sizeof(cl_mem), &count);
  if (st) return st;
  size_t g[3] = {c->g.cells, c->g.bins, c->g.beams}, loc[3] = {c->tile, 1, 1};
  return rf_cl_run(c->cl, q, c->k, c->name, 3, g, loc, 0, NULL, done);
}
