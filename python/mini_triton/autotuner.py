"""`@autotune`, `Config` and `@heuristics`, with Triton's semantics.

An Autotuner benchmarks every (pruned) config the first time it sees a value of its `key` arguments,
remembers the fastest per key, and launches with it. Buffers named in `reset_to_zero` are zeroed before
each benchmarked run; those in `restore_value` are copied first and restored after benchmarking, so that
kernels that accumulate into their outputs (atomics, in-place updates) give the same result as one run.
"""

from __future__ import annotations

import builtins
import os
import time

from .jit import JITFunction, KernelInterface
from . import testing


class Config:
    """One point of an autotuning space: meta-parameter values plus launch options."""

    def __init__(self, kwargs, num_warps=4, num_stages=3, num_ctas=1, maxnreg=None, pre_hook=None, **extra):
        self.kwargs = dict(kwargs)
        self.num_warps = num_warps
        self.num_stages = num_stages
        self.num_ctas = num_ctas
        self.maxnreg = maxnreg
        self.pre_hook = pre_hook

    def all_kwargs(self):
        out = dict(self.kwargs)
        out["num_warps"] = self.num_warps
        out["num_stages"] = self.num_stages
        return out

    def __str__(self):
        parts = [f"{k}: {v}" for k, v in self.kwargs.items()]
        parts += [f"num_warps: {self.num_warps}", f"num_stages: {self.num_stages}", f"num_ctas: {self.num_ctas}"]
        return ", ".join(parts)

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, Config) and self.all_kwargs() == other.all_kwargs()

    def __hash__(self):
        return hash(tuple(sorted((k, repr(v)) for k, v in self.all_kwargs().items())))


def _base_fn(fn):
    while not isinstance(fn, JITFunction):
        fn = fn.fn
    return fn


class Autotuner(KernelInterface):
    def __init__(self, fn, arg_names, configs, key, reset_to_zero=None, restore_value=None, pre_hook=None,
                 post_hook=None, prune_configs_by=None, warmup=25, rep=100, use_cuda_graph=False, do_bench=None):
        self.fn = fn
        self.base_fn = _base_fn(fn)
        self.arg_names = list(arg_names)
        self.configs = list(configs) if configs else [Config({})]
        self.keys = list(key)
        self.key = self.keys
        for k in self.keys:
            if k not in self.arg_names:
                raise ValueError(f"autotune key {k!r} is not a parameter of {self.base_fn.__name__}")
        self.reset_to_zero = list(reset_to_zero or [])
        self.restore_value = list(restore_value or [])
        self.user_pre_hook = pre_hook
        self.post_hook = post_hook
        prune_configs_by = prune_configs_by or {}
        self.perf_model = prune_configs_by.get("perf_model")
        self.configs_top_k = prune_configs_by.get("top_k", 1.0)
        self.early_config_prune = prune_configs_by.get("early_config_prune")
        self.num_warmups = warmup
        self.num_reps = rep
        self.custom_do_bench = do_bench
        self.cache: dict = {}
        self.configs_timings = None
        self.best_config = None
        self.bench_time = 0.0
        self.nargs = None
        self.__name__ = self.base_fn.__name__
        self.__doc__ = self.base_fn.__doc__

    def _args_dict(self, args, kwargs):
        nargs = dict(zip(self.arg_names, args))
        for k, v in kwargs.items():
            if k in self.arg_names:
                nargs[k] = v
        return nargs

    def prune_configs(self, kwargs):
        configs = self.configs
        if self.early_config_prune:
            configs = list(self.early_config_prune(self.configs, self.nargs, **kwargs))
        if self.perf_model:
            top_k = self.configs_top_k
            if isinstance(top_k, float) and top_k <= 1.0:
                top_k = int(len(configs) * top_k)
            top_k = max(1, top_k)
            if len(configs) > top_k:
                est = {c: self.perf_model(**self.nargs, **kwargs, **c.all_kwargs()) for c in configs}
                configs = sorted(est, key=est.get)[:top_k]
        return configs

    def _bench(self, args, kwargs, grid, config):
        conflicts = set(kwargs) & set(config.kwargs)
        if conflicts:
            raise ValueError(f"conflicting meta-parameters: {', '.join(sorted(conflicts))}; they are chosen "
                             "by the autotuner and must not be passed")
        current = dict(kwargs, **config.all_kwargs())
        full_nargs = {**self.nargs, **current}

        def kernel_call():
            # Every benchmarked run starts from the caller's state: reset_to_zero buffers zeroed,
            # restore_value buffers copied now and put back afterwards.
            for name in self.reset_to_zero:
                _zero(full_nargs[name])
            saved = {name: _copy(full_nargs[name]) for name in self.restore_value}
            if config.pre_hook is not None:
                config.pre_hook(full_nargs)
            try:
                self.fn.run(*args, grid=grid, **current)
            finally:
                for name, copy in saved.items():
                    _restore(full_nargs[name], copy)
            if self.post_hook is not None:
                self.post_hook(full_nargs, exception=None)

        bench = self.custom_do_bench or (lambda f: testing.do_bench(f, warmup=self.num_warmups, rep=self.num_reps,
                                                                    quantiles=(0.5, 0.2, 0.8)))
        try:
            return bench(kernel_call)
        except Exception as e:  # a config that does not compile or run is skipped, as in Triton
            from .jit import CompilationError
            if isinstance(e, (CompilationError, RuntimeError)):
                return [float("inf")] * 3
            raise

    def run(self, *args, grid, warmup=False, **kwargs):
        self.nargs = self._args_dict(args, kwargs)
        used_cached = True
        if len(self.configs) > 1:
            # Triton's key: the values of the `key` arguments, then the dtypes of all array/tensor arguments.
            key = tuple(self.nargs[k] for k in self.keys if k in self.nargs) + tuple(
                str(v.dtype) for v in self.nargs.values() if hasattr(v, "dtype") and hasattr(v, "shape"))
            if key not in self.cache:
                used_cached = False
                pruned = self.prune_configs(kwargs)
                start = time.perf_counter()
                timings = {c: self._bench(args, kwargs, grid, c) for c in pruned}
                for name in self.reset_to_zero:  # the real run starts from zeroed buffers too
                    _zero(self.nargs[name])
                self.bench_time = time.perf_counter() - start
                self.cache[key] = builtins.min(timings, key=lambda c: _first(timings[c]))
                self.configs_timings = timings
            config = self.cache[key]
        else:
            config = self.configs[0]
        self.best_config = config
        if not used_cached and _print_autotuning():
            print(f"Triton autotuning for function {self.base_fn.__name__} finished after "
                  f"{self.bench_time:.2f}s; best config selected: {config};")
        full_nargs = {**self.nargs, **kwargs, **config.all_kwargs()}
        if config.pre_hook is not None:
            config.pre_hook(full_nargs)
        ret = self.fn.run(*args, grid=grid, warmup=warmup, **kwargs, **config.all_kwargs())
        self.nargs = None
        return ret


def _first(t):
    return t[0] if isinstance(t, (list, tuple)) else t


def _print_autotuning():
    return os.environ.get("TRITON_PRINT_AUTOTUNING") == "1" or os.environ.get("MINI_TRITON_PRINT_AUTOTUNING") == "1"


def _zero(buf):
    if hasattr(buf, "zero_"):
        buf.zero_()
    else:
        buf[...] = 0


def _copy(buf):
    return buf.clone() if hasattr(buf, "clone") else buf.copy()


def _restore(buf, saved):
    if hasattr(buf, "copy_"):
        buf.copy_(saved)
    else:
        buf[...] = saved


def autotune(configs, key, prune_configs_by=None, reset_to_zero=None, restore_value=None, pre_hook=None,
             post_hook=None, warmup=25, rep=100, use_cuda_graph=False, do_bench=None):
    """Decorator: benchmark `configs` on the first call per value of the `key` arguments; use the best."""

    def decorator(fn):
        return Autotuner(fn, _base_fn(fn).arg_names, configs, key, reset_to_zero, restore_value, pre_hook=pre_hook,
                         post_hook=post_hook, prune_configs_by=prune_configs_by, warmup=warmup, rep=rep,
                         use_cuda_graph=use_cuda_graph, do_bench=do_bench)

    return decorator


class Heuristics(KernelInterface):
    """Computes meta-parameters from the arguments: `values` maps a name to `f(args_dict)`."""

    def __init__(self, fn, arg_names, values):
        self.fn = fn
        self.base_fn = _base_fn(fn)
        self.arg_names = list(arg_names)
        self.values = values
        self.__name__ = self.base_fn.__name__

    def run(self, *args, **kwargs):
        nargs = dict(zip(self.arg_names, args))
        nargs.update(kwargs)
        for name, f in self.values.items():
            kwargs[name] = f(nargs)
            nargs[name] = kwargs[name]
        return self.fn.run(*args, **kwargs)


def heuristics(values):
    """Decorator: `@heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"])})`."""

    def decorator(fn):
        return Heuristics(fn, _base_fn(fn).arg_names, values)

    return decorator
