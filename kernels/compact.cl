/* Candidate compaction: a CFAR crossing is appended (atomic counter) with
 * its neighbours' powers, so only candidates - not power maps - go back to
 * the host, where plot extraction (rf_extract_execute_nb) sorts them into
 * map order. count[0] counts all crossings, count[1 + b] those of beam b;
 * entries past `cap` are counted but not written. */
void rf_emit_cand(__global rf_cand *cand, __global uint *count, uint cap, __global const float *power,
                  uint beams, uint k, uint s, uint baz, uint bel, uint b, uint bin, uint c, float p,
                  float noise, float thr) {
  uint i = atomic_inc(&count[0]);
  atomic_inc(&count[1 + b]);
  if (i >= cap) return;
  __global const float *map = power + (size_t)b * k * s;
  rf_cand x;
  x.beam = b;
  x.bin = bin;
  x.cell = c;
  x.power = p;
  x.noise = noise;
  x.threshold = thr;
  uint ia = b % baz, ie = b / baz;
  size_t at = (size_t)bin * s + c, plane = (size_t)k * s;
  x.nb[0] = c > 0 ? map[at - 1] : 0.0f;
  x.nb[1] = c + 1 < s ? map[at + 1] : 0.0f;
  x.nb[2] = map[(size_t)((bin + k - 1) % k) * s + c];
  x.nb[3] = map[(size_t)((bin + 1) % k) * s + c];
  x.nb[4] = ia > 0 ? map[at - plane] : 0.0f;
  x.nb[5] = ia + 1 < baz ? map[at + plane] : 0.0f;
  x.nb[6] = ie > 0 ? map[at - (size_t)baz * plane] : 0.0f;
  x.nb[7] = ie + 1 < bel ? map[at + (size_t)baz * plane] : 0.0f;
  cand[i] = x;
}
