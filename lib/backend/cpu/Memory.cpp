// Memory ops: load, store (all lanes checked before any write), atomic_rmw, atomic_cas.
//
// A pointer is (buffer = parameter index, byte offset). Every active (mask true) lane is checked against
// its buffer's [0, bytes) (a raw address, from an integer cast to a pointer, against the process's mappings);
// masked-off lanes are never touched and loads fill them from `other` (zero if absent). Atomics are
// serialised by the launch's mutex, which makes them atomic across program instances running on different
// threads.
#include "backend/cpu/Exec.h"

#include <sstream>

namespace mt::cpu {

using ir::OpKind;

namespace {

[[noreturn]] __attribute__((noinline)) void reportBadAccess(const char *what, const Ptr &p, unsigned esz,
                                                            size_t lane, Executor &ex) {
  LaunchState &L = ex.launch();
  if (p.buffer == kRawAddress) {
    std::ostringstream addr;
    addr << "0x" << std::hex << uint64_t(p.offset);
    fail(std::string(what) + " at address " + addr.str() + " (an integer cast to a pointer), which is not " +
         (std::string_view(what) == "load" ? "readable" : "writable") + " memory of this process " +
         ex.where(int64_t(lane)));
  }
  std::string name = p.buffer >= 0 && size_t(p.buffer) < L.buffers.size() ? L.argName(size_t(p.buffer)) : "?";
  const char *prep = std::string_view(what) == "load" ? "from" : "to";
  if (p.buffer < 0 || size_t(p.buffer) >= L.buffers.size() || L.buffers[p.buffer].isNull)
    fail(std::string(what) + " through '" + name + "', which is None " + ex.where(int64_t(lane)));
  const BufferArg &b = L.buffers[p.buffer];
  std::string pos = p.offset % esz == 0 ? "element offset " + std::to_string(p.offset / int64_t(esz))
                                        : "byte offset " + std::to_string(p.offset);
  fail("out-of-bounds " + std::string(what) + " " + prep + " '" + name + "': " + pos +
       " is outside the buffer of " + std::to_string(b.bytes / esz) + " elements " + ex.where(int64_t(lane)));
}

/// The address of an active lane, or a reported error.
inline uint8_t *address(const char *what, const Ptr &p, unsigned esz, size_t lane, Executor &ex) {
  const std::vector<BufferArg> &bufs = ex.launch().buffers;
  if (p.buffer == kRawAddress) {
    if (!ex.launch().maps.accessible(uint64_t(p.offset), esz, std::string_view(what) != "load"))
      reportBadAccess(what, p, esz, lane, ex);
    return reinterpret_cast<uint8_t *>(p.offset);
  }
  if (p.buffer < 0 || size_t(p.buffer) >= bufs.size())
    reportBadAccess(what, p, esz, lane, ex);
  const BufferArg &b = bufs[size_t(p.buffer)];
  if (b.isNull || p.offset < 0 || uint64_t(p.offset) + esz > b.bytes)
    reportBadAccess(what, p, esz, lane, ex);
  return b.data + p.offset;
}

struct MaskView {
  const Bool *m = nullptr;
  bool scalar = false;
  bool on(size_t i) const { return !m || m[scalar ? 0 : i].v; }
};

MaskView maskOf(const Tile *mask, const Tile &ptr) {
  if (!mask)
    return {};
  if (mask->dtype() != DType::I1 || mask->isPtr())
    fail("mask must be i1");
  bool scalar = mask->numel() == 1 && ptr.numel() != 1;
  if (!scalar && mask->shape() != ptr.shape())
    fail("mask shape " + mask->shapeStr() + " differs from the pointer shape " + ptr.shapeStr());
  return {mask->data<Bool>(), scalar};
}

template <class E>
void loadLoop(const Ptr *p, MaskView mask, const E *other, bool scalarOther, E *out, size_t n, Executor &ex) {
  for (size_t i = 0; i < n; ++i) {
    if (!mask.on(i)) {
      out[i] = other ? other[scalarOther ? 0 : i] : E{};
      continue;
    }
    std::memcpy(&out[i], address("load", p[i], sizeof(E), i, ex), sizeof(E));
  }
}

template <class E> void storeLoop(const Ptr *p, MaskView mask, const E *val, size_t n, Executor &ex) {
  for (size_t i = 0; i < n; ++i)
    if (mask.on(i))
      address("store", p[i], sizeof(E), i, ex);
  for (size_t i = 0; i < n; ++i)
    if (mask.on(i))
      std::memcpy(address("store", p[i], sizeof(E), i, ex), &val[i], sizeof(E));
}

enum class RmwKind { Add, Max, Min, Xchg, And, Or, Xor };

RmwKind parseRmw(const ir::Operation &op) {
  std::string k = op.stringAttr("kind");
  if (k == "add" || k == "fadd")
    return RmwKind::Add;
  if (k == "max" || k == "umax")
    return RmwKind::Max;
  if (k == "min" || k == "umin")
    return RmwKind::Min;
  if (k == "xchg")
    return RmwKind::Xchg;
  if (k == "and")
    return RmwKind::And;
  if (k == "or")
    return RmwKind::Or;
  if (k == "xor")
    return RmwKind::Xor;
  fail("atomic_rmw has an unknown kind '" + k + "'");
}

template <class T> T rmwApply(RmwKind k, T oldv, T val) {
  using C = typename Num<T>::C;
  C x = Num<T>::get(oldv), y = Num<T>::get(val);
  switch (k) {
  case RmwKind::Add:
    if constexpr (std::is_floating_point_v<C>)
      return Num<T>::make(x + y);
    else
      return Num<T>::make(C(uint64_t(x) + uint64_t(y)));
  case RmwKind::Max:
    if constexpr (std::is_floating_point_v<C>)
      return Num<T>::make(std::fmax(x, y));
    else
      return Num<T>::make(x < y ? y : x);
  case RmwKind::Min:
    if constexpr (std::is_floating_point_v<C>)
      return Num<T>::make(std::fmin(x, y));
    else
      return Num<T>::make(y < x ? y : x);
  case RmwKind::Xchg:
    return val;
  case RmwKind::And:
  case RmwKind::Or:
  case RmwKind::Xor:
    if constexpr (std::is_floating_point_v<C>) {
      fail("bitwise atomics are not defined on floats");
    } else {
      C r = k == RmwKind::And ? (x & y) : k == RmwKind::Or ? (x | y) : (x ^ y);
      return Num<T>::make(r);
    }
  }
  return val;
}

void checkPtr(const Tile &p, const char *what) {
  if (!p.isPtr())
    fail(std::string(what) + " needs a pointer operand");
}

} // namespace

Tile evalLoad(const ir::Operation &op, Operands in, Executor &ex) {
  const Tile &p = *in[0];
  checkPtr(p, "load");
  MaskView mask = maskOf(in.size() > 1 ? in[1] : nullptr, p);
  Tile r = Tile::ofType(op.result()->type());
  if (r.isPtr() || r.numel() != p.numel() || r.dtype() != p.dtype())
    fail("load result must be the pointee type of the pointer's shape");
  const Tile *other = in.size() > 2 ? in[2] : nullptr;
  bool scalarOther = false;
  if (other) {
    if (other->dtype() != r.dtype() || other->isPtr())
      fail("load: 'other' must have the pointee type");
    scalarOther = other->numel() == 1 && r.numel() != 1;
    if (!scalarOther && other->shape() != r.shape())
      fail("load: 'other' must have the pointer's shape");
  }
  MT_DISPATCH_SIZE(r.elemSize(), E,
                   loadLoop(p.data<Ptr>(), mask, other ? other->data<E>() : nullptr, scalarOther, r.data<E>(),
                            r.numel(), ex));
  return r;
}

void evalStore(const ir::Operation &op, Operands in, Executor &ex) {
  const Tile &p = *in[0];
  const Tile &v = *in[1];
  checkPtr(p, "store");
  if (v.isPtr() || v.dtype() != p.dtype())
    fail("store: the value's type " + std::string(ir::dtypeName(v.dtype())) +
         " differs from the pointee type " + std::string(ir::dtypeName(p.dtype())));
  if (v.shape() != p.shape())
    fail("store: value shape " + v.shapeStr() + " differs from the pointer shape " + p.shapeStr());
  MaskView mask = maskOf(in.size() > 2 ? in[2] : nullptr, p);
  MT_DISPATCH_SIZE(v.elemSize(), E, storeLoop(p.data<Ptr>(), mask, v.data<E>(), v.numel(), ex));
}

Tile evalAtomicRmw(const ir::Operation &op, Operands in, Executor &ex) {
  const Tile &p = *in[0];
  const Tile &v = *in[1];
  checkPtr(p, "atomic_rmw");
  RmwKind kind = parseRmw(op);
  bool scalarVal = v.numel() == 1 && p.numel() != 1;
  if (v.isPtr() || v.dtype() != p.dtype() || (!scalarVal && v.shape() != p.shape()))
    fail("atomic_rmw: the value must have the pointee type and the pointer's shape");
  MaskView mask = maskOf(in.size() > 2 ? in[2] : nullptr, p);
  Tile r = Tile::ofType(op.result()->type());
  if (r.numel() != p.numel() || r.dtype() != p.dtype() || r.isPtr())
    fail("atomic_rmw result must be the pointee type of the pointer's shape");
  const Ptr *ptrs = p.data<Ptr>();
  std::lock_guard<std::mutex> lock(ex.launch().atomicMutex);
  MT_DISPATCH_DTYPE(r.dtype(), T, {
    const T *val = v.data<T>();
    T *out = r.data<T>();
    for (size_t i = 0; i < p.numel(); ++i)
      if (mask.on(i))
        address("atomic_rmw", ptrs[i], sizeof(T), i, ex);
    for (size_t i = 0; i < p.numel(); ++i) {
      if (!mask.on(i))
        continue;
      uint8_t *addr = address("atomic_rmw", ptrs[i], sizeof(T), i, ex);
      T oldv;
      std::memcpy(&oldv, addr, sizeof(T));
      T newv = rmwApply<T>(kind, oldv, val[scalarVal ? 0 : i]);
      std::memcpy(addr, &newv, sizeof(T));
      out[i] = oldv;
    }
  });
  return r;
}

Tile evalAtomicCas(const ir::Operation &op, Operands in, Executor &ex) {
  const Tile &p = *in[0];
  const Tile &cmp = *in[1];
  const Tile &val = *in[2];
  checkPtr(p, "atomic_cas");
  if (!cmp.sameLayout(val) || cmp.isPtr() || cmp.dtype() != p.dtype() || cmp.numel() != p.numel())
    fail("atomic_cas: cmp and val must have the pointee type and the pointer's shape");
  Tile r = Tile::ofType(op.result()->type());
  if (r.numel() != p.numel() || r.elemSize() != cmp.elemSize())
    fail("atomic_cas result must be the pointee type of the pointer's shape");
  const Ptr *ptrs = p.data<Ptr>();
  std::lock_guard<std::mutex> lock(ex.launch().atomicMutex);
  MT_DISPATCH_SIZE(r.elemSize(), E, {
    const E *c = cmp.data<E>(), *v = val.data<E>();
    E *out = r.data<E>();
    for (size_t i = 0; i < p.numel(); ++i)
      address("atomic_cas", ptrs[i], sizeof(E), i, ex);
    for (size_t i = 0; i < p.numel(); ++i) {
      uint8_t *addr = address("atomic_cas", ptrs[i], sizeof(E), i, ex);
      E oldv;
      std::memcpy(&oldv, addr, sizeof(E));
      if (oldv == c[i])
        std::memcpy(addr, &v[i], sizeof(E));
      out[i] = oldv;
    }
  });
  return r;
}

} // namespace mt::cpu
