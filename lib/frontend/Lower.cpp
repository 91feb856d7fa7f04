// The lowering driver: kernel parameters, names and scopes, statements, and inlined calls of @jit
// functions. Control flow is in LowerControl.cpp, expressions in LowerExpr.cpp, typed IR construction
// in Semantic.cpp and the tl.* functions in Builtins*.cpp.
#include "frontend/LowerImpl.h"

#include "ir/Printer.h"

namespace mt {

std::unique_ptr<ir::Module> lowerKernel(const LowerInput &input, ir::TypeContext &types, Diagnostics &diag) {
  if (!input.module)
    return nullptr;
  try {
    return lower::Lowerer(input, types, diag).run();
  } catch (const CompileAbort &) {
    return nullptr;
  }
}

} // namespace mt

namespace mt::lower {

using namespace ast;
using ir::DType;
using ir::OpKind;

namespace {

/// True for `tl.constexpr`, `triton.language.constexpr`, `constexpr` or a string naming one of them.
bool isConstexprAnnotation(const Expr *e) {
  if (!e)
    return false;
  if (e->kind == ExprKind::Name || e->kind == ExprKind::Attribute)
    return e->name == "constexpr";
  if (e->kind == ExprKind::String)
    return e->name.find("constexpr") != std::string::npos;
  return false;
}

/// True if one of the decorators is `jit`, `triton.jit` or a call of one of them.
bool isJitFunction(const FunctionDef &f) {
  for (const ExprPtr &d : f.decorators) {
    const Expr *e = d.get();
    if (e->kind == ExprKind::Call)
      e = e->operands[0].get();
    if ((e->kind == ExprKind::Name || e->kind == ExprKind::Attribute) && e->name == "jit")
      return true;
  }
  return false;
}

} // namespace

Lowerer::Lowerer(const LowerInput &in, ir::TypeContext &types, Diagnostics &diag)
    : in_(in), types_(types), diag_(diag), b_(types) {
  registerCoreBuiltins(builtins_);
  registerMathBuiltins(builtins_);
  registerReduceBuiltins(builtins_);
  registerRandomBuiltins(builtins_);
  registerOrderBuiltins(builtins_);
  registerLibdeviceBuiltins(builtins_);
  registerElementwiseBuiltins(builtins_);
}

Val Lowerer::globalFromConstexpr(const ConstexprValue &c) {
  if (auto *b = std::get_if<bool>(&c))
    return Val::boolean(*b);
  if (auto *i = std::get_if<int64_t>(&c))
    return Val::integer(*i);
  if (auto *d = std::get_if<double>(&c))
    return Val::floating(*d);
  if (auto *s = std::get_if<std::string>(&c))
    return Val::str(*s);
  return Val::none();
}

std::unique_ptr<ir::Module> Lowerer::run() {
  const FunctionDef *kernel = in_.module->findFunction(in_.kernelName);
  if (!kernel)
    fail(SourceLoc{in_.module->file, 1, 1}, "kernel '" + in_.kernelName + "' is not defined in this source");
  auto mod = std::make_unique<ir::Module>(types_);
  ir::Function *f = mod->addFunction(kernel->name, kernel->loc);

  auto fr = std::make_unique<Frame>();
  fr->module = in_.module;
  fr->name = kernel->name;
  fr->isKernel = true;
  frames_.push_back(std::move(fr));
  b_.setInsertionPointToEnd(f->body());
  b_.setLoc(kernel->loc);

  // One spec per parameter, but a tensor descriptor's is followed by its shape's and strides' (mt.h).
  size_t given = 0;
  for (size_t j = 0; j < in_.args.size(); ++j, ++given)
    if (in_.args[j].kind == ArgSpec::Kind::TensorDesc)
      j += 2 * in_.args[j].blockShape.size();
  if (given > kernel->params.size())
    fail(kernel->loc, "kernel '" + kernel->name + "' has " + std::to_string(kernel->params.size()) +
                          " parameters but " + std::to_string(given) + " arguments were given");
  size_t next = 0;
  for (size_t i = 0; i < kernel->params.size(); ++i) {
    const Param &p = kernel->params[i];
    bool annotatedConstexpr = isConstexprAnnotation(p.annotation.get());
    b_.setLoc(p.loc);
    if (next >= in_.args.size()) {
      if (!p.defaultValue)
        fail(p.loc, "no argument given for parameter '" + p.name + "' of kernel '" + kernel->name + "'");
      Val d = lowerExpr(*p.defaultValue);
      if (!isCompileTime(d))
        fail(p.defaultValue->loc, "the default of parameter '" + p.name + "' is not a compile-time value");
      frame().vars[p.name] = d;
      continue;
    }
    const ArgSpec &a = in_.args[next++];
    if (a.kind == ArgSpec::Kind::Constexpr) {
      frame().vars[p.name] = globalFromConstexpr(a.value);
      continue;
    }
    if (annotatedConstexpr)
      fail(p.loc, "parameter '" + p.name +
                      "' is annotated tl.constexpr but its argument is not a compile-time value");
    if (a.kind == ArgSpec::Kind::TensorDesc) {
      size_t rank = a.blockShape.size();
      if (next + 2 * rank > in_.args.size())
        fail(p.loc, "the tensor descriptor of parameter '" + p.name + "' lacks its shape and strides");
      frame().vars[p.name] = descriptorParam(f, p, a, next);
      next += 2 * rank;
      continue;
    }
    frame().vars[p.name] = scalarParam(f, p.name, a);
  }
  lowerBody(kernel->body);
  b_.setLoc(kernel->loc);
  b_.create(OpKind::Return, {}, {});
  frames_.pop_back();
  return mod;
}

Val Lowerer::scalarParam(ir::Function *f, const std::string &name, const ArgSpec &a) {
  bool isPtr = a.kind == ArgSpec::Kind::Pointer || a.kind == ArgSpec::Kind::TensorDesc;
  const ir::Type *type = isPtr ? types_.pointer(scalarType(a.dtype)) : scalarType(a.dtype);
  ir::Value *arg = f->body().addArgument(type);
  f->argNames().push_back(name);
  if (!isPtr && a.equalsOne && ir::isInteger(a.dtype))
    return Val::integer(1);
  if (a.divisibleBy16 && (isPtr || ir::isInteger(a.dtype)))
    return Val::ir(b_.create1(OpKind::Hint, {arg}, type, {{"multiple_of", std::vector<int64_t>{16}}}));
  return Val::ir(arg);
}

Val Lowerer::descriptorParam(ir::Function *f, const ast::Param &p, const ArgSpec &a, size_t first) {
  size_t rank = a.blockShape.size();
  if (rank == 0 || rank > 5)
    fail(p.loc, "the tensor descriptor of parameter '" + p.name + "' must have 1 to 5 dims");
  checkBlockShape(a.blockShape, p.loc);
  // As if the kernel began with p = tl.make_tensor_descriptor(base, shape, strides, block_shape, padding).
  Val base = scalarParam(f, p.name, a);
  std::vector<Val> dims[2];
  for (int part = 0; part < 2; ++part)
    for (size_t d = 0; d < rank; ++d) {
      const char *what = part ? "stride" : "shape";
      const ArgSpec &s = in_.args[first++];
      if (s.kind != ArgSpec::Kind::Scalar || !ir::isInteger(s.dtype))
        fail(p.loc, "the " + std::string(what) + "s of tensor descriptor '" + p.name + "' must be integers");
      dims[part].push_back(scalarParam(f, p.name + "." + what + std::to_string(d), s));
    }
  return tensorDesc(base, dims[0], dims[1], a.blockShape, a.nanPadding);
}

// ---- Names ------------------------------------------------------------------------------------------

Val Lowerer::lookupName(const std::string &name, SourceLoc loc) {
  auto &vars = frame().vars;
  if (auto it = vars.find(name); it != vars.end()) {
    if (it->second.kind == Val::Kind::Undef)
      fail(loc, it->second.s);
    return it->second;
  }
  const ast::Module *m = frame().module;
  if (auto it = in_.globals.find(name); it != in_.globals.end())
    return globalFromConstexpr(it->second);
  const auto &g = moduleGlobals(m);
  if (auto it = g.find(name); it != g.end()) {
    if (it->second.kind == Val::Kind::Module && it->second.b)
      return resolveImport(it->second, loc);
    return it->second;
  }
  // Module-level assignments, evaluated on first use (the last assignment of the name wins).
  for (auto it = m->globals.rbegin(); it != m->globals.rend(); ++it) {
    const Stmt &s = **it;
    bool assigns = false;
    for (const ExprPtr &t : s.targets)
      assigns |= t->kind == ExprKind::Name && t->name == name;
    if (!assigns || !s.value)
      continue;
    if (evaluating_.count(&s))
      fail(loc, "module-level name '" + name + "' is defined in terms of itself");
    evaluating_.insert(&s);
    ir::Block scratch;
    ir::InsertionGuard guard(b_);
    b_.setInsertionPointToEnd(scratch);
    auto fr = std::make_unique<Frame>();
    fr->module = m;
    fr->name = "<module>";
    frames_.push_back(std::move(fr));
    Val v = lowerExpr(*s.value);
    frames_.pop_back();
    evaluating_.erase(&s);
    if (!isCompileTime(v))
      fail(s.value->loc, "module-level name '" + name + "' must be a compile-time constant");
    globals_[m][name] = v;
    return v;
  }
  if (const FunctionDef *f = m->findFunction(name))
    return Val::func(f, m);
  for (const ast::Module *h : in_.helperModules)
    if (const FunctionDef *f = h->findFunction(name))
      return Val::func(f, h);
  if (m != in_.module)
    if (const FunctionDef *f = in_.module->findFunction(name))
      return Val::func(f, in_.module);
  if (name == "tl")
    return Val::module("triton.language");
  if (name == "triton")
    return Val::module("triton");
  static const char *const pyBuiltins[] = {"range",     "min", "max",   "float", "int",
                                           "bool",      "len", "abs",   "print", "isinstance",
                                           "enumerate", "zip", "tuple", "list"};
  for (const char *b : pyBuiltins)
    if (name == b)
      return Val::builtin(std::string("py.") + b);
  fail(loc, "name '" + name + "' is not defined");
}

/// mini_triton's modules are Triton's: `import mini_triton.language as tl` is `triton.language`.
static std::string tritonModule(const std::string &m) {
  static const std::string ours = "mini_triton";
  if (m.compare(0, ours.size(), ours) == 0 && (m.size() == ours.size() || m[ours.size()] == '.'))
    return "triton" + m.substr(ours.size());
  return m;
}

const std::map<std::string, Val> &Lowerer::moduleGlobals(const ast::Module *m) {
  auto &g = globals_[m];
  if (globalsDone_.insert(m).second) {
    for (auto imp : m->imports) {
      imp.module = tritonModule(imp.module);
      if (imp.name.empty()) {
        // `import a.b` binds `a`; `import a.b as c` binds c to a.b.
        bool prefix = imp.module.size() > imp.alias.size() &&
                      imp.module.compare(0, imp.alias.size(), imp.alias) == 0 &&
                      imp.module[imp.alias.size()] == '.';
        g[imp.alias] = Val::module(prefix ? imp.alias : imp.module);
        continue;
      }
      // `from m import name`: a submodule, a builtin or a dtype; resolved lazily (Undef carries the path).
      Val v;
      v.kind = Val::Kind::Module;
      v.s = imp.module + "." + imp.name;
      v.b = true; // marks a from-import to resolve on use
      v.fnModule = m;
      g[imp.alias] = v;
    }
  }
  return g;
}

Val Lowerer::resolveImport(const Val &v, SourceLoc loc) {
  // `from a.b import c`: the module a.b's attribute c.
  std::string path = v.s;
  size_t dot = path.rfind('.');
  return moduleAttr(Val::module(path.substr(0, dot)), path.substr(dot + 1), loc);
}

// ---- Statements -------------------------------------------------------------------------------------

void Lowerer::lowerBody(const StmtList &body) {
  std::vector<const Stmt *> stmts;
  for (const StmtPtr &s : body)
    stmts.push_back(s.get());
  lowerStmts(stmts);
}

static bool endsWithReturn(const StmtList &body) {
  return !body.empty() && body.back()->kind == StmtKind::Return;
}

void Lowerer::lowerStmts(const std::vector<const Stmt *> &stmts) {
  for (size_t i = 0; i < stmts.size(); ++i) {
    if (frame().returned)
      return;
    const Stmt &s = *stmts[i];
    // `if cond: ...; return [x]` at function level: the rest of the function becomes the else branch
    // (and the returned value, if any, a result of the `if`).
    if (s.kind == StmtKind::If && frame().runtimeDepth == 0 && endsWithReturn(s.body)) {
      Val c = lowerExpr(*s.test);
      if (isCompileTime(c)) {
        lowerBody(truthy(c) ? s.body : s.orelse);
        continue;
      }
      std::vector<const Stmt *> thenS, elseS;
      for (const StmtPtr &t : s.body)
        thenS.push_back(t.get());
      for (const StmtPtr &e : s.orelse)
        elseS.push_back(e.get());
      elseS.insert(elseS.end(), stmts.begin() + i + 1, stmts.end());
      lowerRuntimeIf(s, c, thenS, elseS, true); // sets the frame's return value
      return;
    }
    lowerStmt(s);
  }
}

void Lowerer::lowerStmt(const Stmt &s) {
  b_.setLoc(s.loc);
  switch (s.kind) {
  case StmtKind::FunctionDef:
    fail(s.loc, "nested function definitions are not supported in a kernel");
  case StmtKind::Assign: {
    Val v = lowerExpr(*s.value);
    for (const ExprPtr &t : s.targets)
      assignTo(*t, v);
    return;
  }
  case StmtKind::AugAssign: {
    const Expr &t = *s.targets[0];
    if (t.kind != ExprKind::Name)
      fail(t.loc, "augmented assignment is only supported to a variable");
    Val cur = lookupName(t.name, t.loc);
    Val rhs = lowerExpr(*s.value);
    b_.setLoc(s.loc);
    assignTo(t, binary(s.augOp, cur, rhs, s.loc));
    return;
  }
  case StmtKind::AnnAssign: {
    if (!s.value)
      return;
    Val v = lowerExpr(*s.value);
    if (isConstexprAnnotation(s.test.get()) && !isCompileTime(v))
      fail(s.value->loc, "a value annotated tl.constexpr must be a compile-time constant");
    assignTo(*s.targets[0], v);
    return;
  }
  case StmtKind::ExprStmt:
    lowerExpr(*s.value);
    return;
  case StmtKind::If:
    lowerIf(s);
    return;
  case StmtKind::For:
    lowerFor(s);
    return;
  case StmtKind::While:
    lowerWhile(s);
    return;
  case StmtKind::Return: {
    Val v = s.value ? lowerExpr(*s.value) : Val::none();
    if (frame().runtimeDepth > 0)
      fail(s.loc, "'return' inside a runtime if/for/while is not supported");
    frame().retVal = v;
    frame().returned = true;
    return;
  }
  case StmtKind::Pass:
    return;
  case StmtKind::Break:
    fail(s.loc, "'break' is not supported (Triton does not support it either)");
  case StmtKind::Continue:
    fail(s.loc, "'continue' is not supported (Triton does not support it either)");
  case StmtKind::Assert: {
    Val c = lowerExpr(*s.test);
    std::string msg;
    if (s.msg) {
      Val m = lowerExpr(*s.msg);
      msg = m.kind == Val::Kind::Str ? m.s : repr(m);
    }
    b_.setLoc(s.loc);
    if (isCompileTime(c)) {
      if (!truthy(c))
        fail(s.loc, msg.empty() ? "assertion failed" : "assertion failed: " + msg);
      return;
    }
    ir::Value *cond = toI1(toIR(c, s.test->loc, "assert condition"));
    b_.create(OpKind::Assert, {cond}, {}, {{"message", msg}});
    return;
  }
  }
  fail(s.loc, "unsupported statement");
}

void Lowerer::assignTo(const Expr &target, const Val &v) {
  switch (target.kind) {
  case ExprKind::Name:
    frame().vars[target.name] = v;
    return;
  case ExprKind::Tuple:
  case ExprKind::List: {
    if (v.kind != Val::Kind::Tuple)
      fail(target.loc,
           "cannot unpack " + describe(v) + " into " + std::to_string(target.operands.size()) + " targets");
    if (v.elems.size() != target.operands.size())
      fail(target.loc, "cannot unpack " + std::to_string(v.elems.size()) + " values into " +
                           std::to_string(target.operands.size()) + " targets");
    for (size_t i = 0; i < v.elems.size(); ++i)
      assignTo(*target.operands[i], v.elems[i]);
    return;
  }
  case ExprKind::Subscript:
    fail(target.loc, "assignment to a subscript is not supported (tensors are immutable; use tl.where)");
  case ExprKind::Attribute:
    fail(target.loc, "assignment to an attribute is not supported");
  default:
    fail(target.loc, "cannot assign to this expression");
  }
}

// ---- Calls ------------------------------------------------------------------------------------------

Val Lowerer::callValue(const Val &callee, CallArgs &args, SourceLoc loc, const std::string &calleeText) {
  switch (callee.kind) {
  case Val::Kind::Func:
    return inlineCall(callee, args, loc);
  case Val::Kind::Builtin: {
    if (!callee.elems.empty()) {
      args.pos.insert(args.pos.begin(), callee.elems[0]);
      args.posLocs.insert(args.posLocs.begin(), loc);
    }
    return callBuiltin(callee.s, args, loc, builtinDisplayName(callee.s));
  }
  default:
    fail(loc, "'" + calleeText + "' (" + describe(callee) + ") is not callable");
  }
}

std::string Lowerer::builtinDisplayName(const std::string &name) const {
  if (name.rfind("py.", 0) == 0)
    return name.substr(3);
  if (name.rfind("method.", 0) == 0)
    return "tensor." + name.substr(7);
  if (name.rfind("dtype.", 0) == 0 || name.rfind("libdevice.", 0) == 0)
    return name;
  if (name == "cdiv_triton" || name == "next_power_of_2")
    return "triton." + name;
  return "tl." + name;
}

Val Lowerer::callBuiltin(const std::string &name, CallArgs &args, SourceLoc loc, const std::string &display) {
  auto it = builtins_.find(name);
  if (it == builtins_.end())
    fail(loc, "'" + display + "' is not supported");
  const BuiltinDef &def = it->second;
  Bound bd;
  bd.fname = display;
  bd.callLoc = loc;
  size_t n = def.sig.size();
  bd.vals.resize(n);
  bd.locs.resize(n);
  std::vector<std::string> names(n);
  std::vector<bool> optional(n, false);
  int star = -1;
  bool anyKw = false;
  for (size_t i = 0; i < n; ++i) {
    std::string p = def.sig[i];
    if (p == "**") {
      anyKw = true;
      continue;
    }
    if (p[0] == '*') {
      star = int(i);
      p = p.substr(1);
      optional[i] = true;
    }
    if (p.back() == '?') {
      optional[i] = true;
      p.pop_back();
    }
    names[i] = p;
  }
  size_t fixed = star >= 0 ? size_t(star) : n;
  if (anyKw && star < 0)
    fixed = n - 1;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < fixed) {
      bd.vals[i] = args.pos[i];
      bd.locs[i] = args.posLocs[i];
      continue;
    }
    if (star < 0)
      fail(args.posLocs[i], display + "() takes at most " + std::to_string(fixed) +
                                " positional arguments (" + std::to_string(args.pos.size()) + " given)");
    bd.rest.push_back(args.pos[i]);
    bd.restLocs.push_back(args.posLocs[i]);
  }
  for (size_t k = 0; k < args.kwNames.size(); ++k) {
    size_t idx = n;
    for (size_t i = 0; i < n; ++i)
      if (int(i) != star && names[i] == args.kwNames[k] && def.sig[i] != "**")
        idx = i;
    if (idx == n) {
      if (anyKw)
        continue;
      fail(args.kwLocs[k], display + "() got an unexpected keyword argument '" + args.kwNames[k] + "'");
    }
    if (bd.vals[idx])
      fail(args.kwLocs[k], display + "() got multiple values for argument '" + args.kwNames[k] + "'");
    bd.vals[idx] = args.kwVals[k];
    bd.locs[idx] = args.kwLocs[k];
  }
  for (size_t i = 0; i < n; ++i)
    if (!optional[i] && def.sig[i] != "**" && !bd.vals[i])
      fail(loc, display + "() missing required argument '" + names[i] + "'");
  b_.setLoc(loc);
  return def.fn(*this, bd);
}

Val Lowerer::inlineCall(const Val &callee, CallArgs &args, SourceLoc loc) {
  const FunctionDef &fn = *callee.fn;
  if (!isJitFunction(fn))
    fail(loc, "function '" + fn.name + "' is not a @triton.jit function and cannot be called from a kernel");
  if (inlineDepth_ >= 64)
    fail(loc, "calls nested more than 64 deep (is '" + fn.name + "' recursive?)");
  auto fr = std::make_unique<Frame>();
  fr->module = callee.fnModule;
  fr->name = fn.name;
  size_t n = fn.params.size();
  std::vector<std::optional<Val>> bound(n);
  if (args.pos.size() > n)
    fail(loc, fn.name + "() takes " + std::to_string(n) + " arguments but " +
                  std::to_string(args.pos.size()) + " were given");
  for (size_t i = 0; i < args.pos.size(); ++i)
    bound[i] = args.pos[i];
  for (size_t k = 0; k < args.kwNames.size(); ++k) {
    size_t idx = n;
    for (size_t i = 0; i < n; ++i)
      if (fn.params[i].name == args.kwNames[k])
        idx = i;
    if (idx == n)
      fail(args.kwLocs[k], fn.name + "() got an unexpected keyword argument '" + args.kwNames[k] + "'");
    if (bound[idx])
      fail(args.kwLocs[k], fn.name + "() got multiple values for argument '" + args.kwNames[k] + "'");
    bound[idx] = args.kwVals[k];
  }
  for (size_t i = 0; i < n; ++i) {
    const Param &p = fn.params[i];
    if (!bound[i]) {
      if (!p.defaultValue)
        fail(loc, fn.name + "() missing required argument '" + p.name + "'");
      // Defaults are evaluated in the callee's module scope.
      auto df = std::make_unique<Frame>();
      df->module = callee.fnModule;
      df->name = fn.name;
      frames_.push_back(std::move(df));
      bound[i] = lowerExpr(*p.defaultValue);
      frames_.pop_back();
    }
    // A tl.constexpr parameter of a helper may still receive a tensor (Triton's attention tutorial passes
    // offsets that way); it is then an ordinary value.
    fr->vars[p.name] = *bound[i];
  }
  frames_.push_back(std::move(fr));
  ++inlineDepth_;
  lowerBody(fn.body);
  --inlineDepth_;
  Val ret = frame().retVal;
  frames_.pop_back();
  b_.setLoc(loc);
  return ret;
}

} // namespace mt::lower
