"""Validation helpers whose errors name the parameter, what is allowed and what was given."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from ._parallel import available_cores


def check_random_state(seed) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from ``None``, an int or a Generator.

    Parameters
    ----------
    seed : None | int | numpy.random.Generator | numpy.random.RandomState
        ``None`` draws fresh entropy, an int seeds a new generator, a generator is returned
        as is, a legacy ``RandomState`` seeds a new generator from one of its draws.

    Returns
    -------
    rng : numpy.random.Generator
        The generator.

    Examples
    --------
    >>> from hyperalign.utils import check_random_state
    >>> rng = check_random_state(0)
    >>> check_random_state(rng) is rng
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy Generator; got {type(seed)}")


def check_option(name: str, value, allowed: Iterable):
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value : object
        The value to check.
    allowed : iterable
        The allowed values.

    Returns
    -------
    value : object
        The value, unchanged.

    Examples
    --------
    >>> from hyperalign.utils import check_option
    >>> check_option("method", "plv", ["plv", "ccorr"])
    'plv'
    """
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_positive(name: str, value, *, strict: bool = True, allow_none: bool = False):
    """Raise ``ValueError`` unless ``value`` is a finite (strictly) positive number.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value : float
        The value to check.
    strict : bool
        If ``True`` zero is rejected, else allowed.
    allow_none : bool
        If ``True``, ``None`` passes unchecked.

    Returns
    -------
    value : float | None
        The value, unchanged.
    """
    if value is None and allow_none:
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        word = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {word}; got {value!r}")
    return value


#: Marker in the names of temporary files written by :func:`atomic_write` / :func:`atomic_path`
#: (a run cleans leftovers of killed writers by this marker).
PART_MARKER = ".part"


def _tmp_name(path: Path) -> Path:
    """A unique hidden temporary name beside ``path`` that keeps its suffix (for writers that
    infer the format from it): ``.<name>.<pid>-<random>.part<suffix>``."""
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.name}.{token}{PART_MARKER}{path.suffix}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    An interrupted write never leaves a partial file under the final name. The file gets the
    permissions of any newly created file (``0o666`` minus the process umask), as ``open``
    would give it, not the owner-only ``0o600`` of :func:`tempfile.mkstemp`.

    Parameters
    ----------
    path : path-like
        Final file name (parent folders are created).
    mode : str
        ``open`` mode: ``'w'`` (text) or ``'wb'`` (bytes).
    **kwargs
        Passed to :func:`open` (``encoding``, ``newline``...).

    Yields
    ------
    fh : file object
        The open temporary file.

    See Also
    --------
    atomic_path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _tmp_name(path)
        try:  # O_EXCL: never reuse a name; mode 0o666 is masked by the umask (like open)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_path(path: str | os.PathLike) -> tuple[Path, Path]:
    """Return ``(tmp, final)`` paths for writers that need a file name (call ``os.replace``).

    ``tmp`` is unique to this call (process id and a random token), hidden, marked ``.part``
    and keeps the suffix of ``path``; the writer creates it, so it gets the umask's mode.

    Parameters
    ----------
    path : path-like
        Final file name (parent folders are created).

    Returns
    -------
    tmp : pathlib.Path
        The temporary name to write.
    final : pathlib.Path
        The final name, to pass to :func:`os.replace` once ``tmp`` is complete.

    See Also
    --------
    atomic_write
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _tmp_name(path), path


_TYPE_NAMES = {
    "int-like": "an int",
    "numeric": "a number",
    "path-like": "a path (str or os.PathLike)",
    "callable": "a callable",
    None: "None",
}


def _validate_type(item, types, item_name: str = "item", type_name: str | None = None):
    """Raise ``TypeError`` unless ``item`` is an instance of ``types`` (MNE's helper).

    Parameters
    ----------
    item : object
        The value to check.
    types : type | str | None | tuple
        Allowed types. Strings stand for families: ``'int-like'`` (int or numpy integer, never
        bool), ``'numeric'`` (int-like or float, never bool), ``'path-like'`` (str or
        ``os.PathLike``), ``'callable'``; ``None`` allows ``None``.
    item_name : str
        The parameter's name, used in the message.
    type_name : str | None
        How to describe the allowed types in the message (built from ``types`` if ``None``).

    Returns
    -------
    item : object
        The value, unchanged.
    """
    if not isinstance(types, tuple | list):
        types = (types,)
    ok = False
    for t in types:
        if t is None:
            ok = item is None
        elif t == "int-like":
            ok = isinstance(item, int | np.integer) and not isinstance(item, bool | np.bool_)
        elif t == "numeric":
            ok = isinstance(item, int | float | np.integer | np.floating) and not isinstance(
                item, bool | np.bool_
            )
        elif t == "path-like":
            ok = isinstance(item, str | os.PathLike)
        elif t == "callable":
            ok = callable(item)
        elif isinstance(t, type):
            ok = isinstance(item, t)
        else:
            raise ValueError(f"_validate_type: unknown type spec {t!r}")
        if ok:
            return item
    if type_name is None:
        names = [t.__name__ if isinstance(t, type) else _TYPE_NAMES.get(t, str(t)) for t in types]
        type_name = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    raise TypeError(
        f"{item_name} must be {type_name}; got {_short_repr(item)} ({type(item).__name__})"
    )


def _short_repr(item, limit: int = 80) -> str:
    """``repr(item)`` on one line, cut to ``limit`` characters (a DataFrame or a Dataset given
    in place of something else would otherwise fill the error message)."""
    text = repr(item)
    if len(text) <= limit and "\n" not in text:
        return text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_n_jobs(n_jobs) -> int:
    """Turn joblib's ``n_jobs`` (``None``/1 serial, -1 all cores, -2 all but one) into a count.

    Parameters
    ----------
    n_jobs : int | None
        Requested number of jobs.

    Returns
    -------
    n : int
        Number of workers, at least 1 and at most the cores this process may use.
    """
    if n_jobs is None:
        return 1
    _validate_type(n_jobs, "int-like", "n_jobs")
    n_cores = available_cores()
    if n_jobs == 0:
        raise ValueError("n_jobs must be a nonzero int (None or 1 serial, -1 all cores); got 0")
    n = n_jobs if n_jobs > 0 else max(1, n_cores + 1 + n_jobs)
    return int(max(1, min(n, n_cores)))


def keyword_only_after(n: int) -> Callable:
    """Deprecate passing parameters after the first ``n`` positionally (they become keyword-only).

    Positional calls keep working for one release with a ``DeprecationWarning`` naming the
    parameters to pass by keyword.
    """

    def deco(func: Callable) -> Callable:
        sig = inspect.signature(func)
        params = list(sig.parameters.values())
        names = [p.name for p in params if p.kind is p.KEYWORD_ONLY]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if len(args) > n:
                extra = args[n:]
                if len(extra) > len(names):
                    raise TypeError(
                        f"{func.__name__}() takes {n} positional argument(s) and at most "
                        f"{len(names)} deprecated positional one(s); got {len(args)}"
                    )
                moved = names[: len(extra)]
                dup = [m for m in moved if m in kwargs]
                if dup:
                    raise TypeError(f"{func.__name__}() got multiple values for {dup}")
                warnings.warn(
                    f"{func.__name__}: passing {moved} positionally is deprecated; pass them "
                    f"by keyword ({', '.join(f'{m}=...' for m in moved)}).",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs.update(zip(moved, extra))
                args = args[:n]
            return func(*args, **kwargs)

        return wrapper

    return deco


def warn_renamed(where: str, old: str, new: str, *, stacklevel: int = 2) -> None:
    """Warn (``FutureWarning``) that ``where(old=...)`` is deprecated in favour of ``new=``.

    Parameters
    ----------
    where : str
        The function or method, as the user calls it (e.g. ``'B2BCoupling.sel'``).
    old, new : str
        The deprecated and the new keyword.
    stacklevel : int
        Passed to :func:`warnings.warn` (2: the caller of the function calling this).
    """
    warnings.warn(
        f"{where}({old}=...) is deprecated and will be removed in the next release; use "
        f"{new}= (the same values)",
        FutureWarning,
        stacklevel=stacklevel + 1,
    )


def renamed_params(**renames: str) -> Callable:
    """Accept each old keyword name in place of its new one for one release.

    Parameters
    ----------
    **renames : str
        ``old_name='new_name'`` pairs. A call that passes ``old_name=`` gets a
        ``FutureWarning`` naming the new keyword, and the value is passed on as
        ``new_name=``; passing both is a ``TypeError``.

    Returns
    -------
    decorator : callable
        The decorator; the wrapped function's signature shows only the new names.

    Examples
    --------
    >>> @renamed_params(kind="map_type")
    ... def peak(map_type="raw"):
    ...     return map_type
    >>> peak(map_type="residual")
    'residual'
    """

    def deco(func: Callable) -> Callable:
        where = func.__qualname__.removesuffix(".__init__")  # Folds(kind=...)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(
                        f"{where}() got both {old}= (deprecated) and {new}=; pass only {new}="
                    )
                warn_renamed(where, old, new, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return deco
