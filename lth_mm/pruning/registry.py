# Copyright (c) lth_mm authors. All rights reserved.
"""The registry of pruning criteria (pure Python, no mmengine).

Criteria are chosen in a config the OpenMMLab way: ``criterion='lamp'`` or
``criterion=dict(type='lamp', **options)``. A criterion is an entry of :data:`CRITERIA`,
registered with ``@CRITERIA.register_module()``, never a branch of an if-chain, so new
criteria (the structured ones of the fast-tickets work) are added without touching the
dispatch.

Why not ``mmengine.registry.Registry``: ``lth_mm.pruning`` is pure PyTorch so that the
pruning maths can be imported, tested and reused without mmengine (and without its
default-scope machinery, which picks registries by the running codebase). Entries register
at import time, so a lazily imported mmengine registry would not stay lazy. This class
keeps mmengine's surface (``register_module(name=None, force=False, module=None)``,
``get``, ``build``, ``in``, ``len``), so moving to mmengine later is a one-line change.
"""
import inspect
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Union


class Registry:
    """A name -> callable table with mmengine's registration interface.

    Args:
        name: what the entries are (for error messages), e.g. ``'criterion'``.
    """

    def __init__(self, name: str):
        self.name = name
        self._entries: Dict[str, Callable] = {}

    def register_module(self, name: Optional[str] = None, force: bool = False,
                        module: Optional[Callable] = None):
        """Register ``module`` (or, as a decorator, the decorated callable).

        Args:
            name: the registry key (default: the callable's ``__name__``).
            force: replace an existing entry of that name.
            module: the callable, when not used as a decorator.

        Returns:
            the callable (``module`` given) or a decorator.
        """
        def _register(fn):
            key = name or fn.__name__
            if key in self._entries and not force:
                raise KeyError(f'{key!r} is already registered in the {self.name} registry')
            self._entries[key] = fn
            return fn
        return _register(module) if module is not None else _register

    def get(self, key: str) -> Callable:
        """The entry registered as ``key``.

        Raises:
            KeyError: no such entry (the message lists the valid names).
        """
        try:
            return self._entries[key]
        except (KeyError, TypeError):
            raise KeyError(f'unknown {self.name} {key!r}; registered: {sorted(self)}') from None

    def split(self, cfg: Union[str, Mapping[str, Any]]):
        """``(entry, options)`` of a name or a ``dict(type=NAME, **options)`` config.

        The options are checked against the entry's keyword arguments, so a typo in a
        config fails when the config is read, not when the first round prunes.

        Raises:
            KeyError: unknown type; TypeError: malformed config or unknown option.
        """
        if isinstance(cfg, str):
            return self.get(cfg), {}
        if not isinstance(cfg, Mapping) or 'type' not in cfg:
            raise TypeError(f'a {self.name} is a registered name or a dict with `type`, '
                            f'got {cfg!r}')
        opts = {k: v for k, v in cfg.items() if k != 'type'}
        fn = self.get(cfg['type'])
        params = inspect.signature(fn).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            own = getattr(fn, 'options', ())
            bad = [k for k in opts if k not in own]
            if bad:
                raise TypeError(f'{self.name} {cfg["type"]!r}: unknown option(s) {bad}; '
                                f'valid options: {list(own)}')
        return fn, opts

    def __contains__(self, key) -> bool:
        return isinstance(key, str) and key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f'Registry({self.name!r}, {list(self._entries)})'


# Each entry: fn(weights, masks, keep, *, generator=None, min_density=None, **options)
# -> dict of boolean masks keeping exactly round(keep * N) weights (see criteria.py).
# An entry lists its config options in a function attribute ``options`` (a tuple of names).
CRITERIA = Registry('criterion')


def criterion_name(cfg: Union[str, Mapping[str, Any]]) -> str:
    """The registry name of a criterion config (``'lamp'`` or ``dict(type='lamp')``)."""
    return cfg if isinstance(cfg, str) else str(dict(cfg).get('type'))
