r"""What a step's ``transition`` is handed: the states it acts on, their mass and the denoiser's answers.

- :class:`PatternStates` — one mask pattern (:data:`refimpl.engine.protocol.PER_PATTERN` steps), in block
  layout: one axis per position in position order, size V at clean positions and size 1 (or V+1 for
  destinations) at masked ones.
- :class:`CountStates` — many patterns with the same numbers of masked positions and candidates
  (:data:`refimpl.engine.protocol.BY_COUNTS` steps), by flat index.

Both read the denoiser through its reader (:func:`refimpl.denoisers.reader`), only when the step asks.
"""
import numpy as np

from ..core.numerics import FRESH
from .layout import code_patterns, pattern_codes, reveal_index, reveal_offsets
from .moves import BlockMove, ScatterMove


class PatternStates:
    r"""One mask pattern during one step: its sources' mass and the denoiser's answers, in block layout.

    ``mass`` has the source layout; ``mu(j)`` is :math:`\mu(z)_{j,\cdot}` with the token on axis j;
    ``rows(j)`` is the same as (V, N) rows, the N sources in C order of the clean positions (the layout
    products are formed in).
    """

    def __init__(self, pattern, mass, reader, vocab_size, work=FRESH):
        self.pattern = pattern  # (L,) bool, True where masked
        self.vocab_size = vocab_size
        self.length = len(pattern)
        self.masked = tuple(int(i) for i in np.flatnonzero(pattern))
        self.clean = tuple(int(i) for i in np.flatnonzero(~pattern))
        self.sources = vocab_size ** len(self.clean)
        self.mass = mass  # source layout
        self._reader = reader
        self._mu = None
        self._work = work

    def buffer(self, slot, shape):
        """A reusable array of ``shape`` (named by ``slot``) from the engine's workspace, so large steps do
        not fault in fresh memory."""
        return self._work.scratch(f"block {slot}", shape)

    def mu(self, j):
        if self._mu is None:
            self._mu = self._reader.block(self.pattern)
        return self._mu[j]

    def rows(self, j):
        r""":math:`\mu(z)_{j,\cdot}` as (V, N) — the token first, the sources in C order of the clean
        positions — copied into a workspace array (valid until the next call)."""
        mu = np.moveaxis(self.mu(j), j, 0)  # (V, block shape with 1 at every masked position)
        out = self.buffer("rows", mu.shape)
        np.copyto(out, mu)
        return out.reshape(self.vocab_size, self.sources)

    def clean_rows(self, j):
        r"""The model's prediction at the *clean* position j as (V, N) rows (fresh): the denoiser's answer there
        with j masked, :math:`\mu(z_{-j})_{j,\cdot}` — the same for every token at j (a denoiser carries clean
        positions over, so this is how refimpl reads a prediction that may differ from the token; for the
        oracle it is the conditional law of x_j given every other position)."""
        wider = self.pattern.copy()
        wider[j] = True
        rows = self._reader.block(wider)[j]  # the token on axis j; every other clean axis a source
        rows = np.expand_dims(np.moveaxis(rows, j, 0), j + 1)  # (V, block shape with 1 at j)
        shape = (self.vocab_size,) + tuple(self.vocab_size if not m else 1 for m in self.pattern)
        return np.ascontiguousarray(np.broadcast_to(rows, shape)).reshape(self.vocab_size, self.sources)

    def query(self, z, at):
        r"""The model's answers :math:`\mu(z_b)_{j}` at masked positions ``at`` (B, e) of partial sequences ``z``
        (B, L): (B, e, V), read through the engine's reader (for a step with ``queries``)."""
        strides = (self.vocab_size + 1) ** np.arange(self.length - 1, -1, -1, dtype=np.int64)
        index = (np.asarray(z, dtype=np.int64) @ strides)[:, None]  # (B, 1)
        return self._reader.gather(index, np.asarray(at, dtype=np.int64)).transpose(2, 3, 0, 1)[:, 0]

    def source_index(self):
        """(N,) int64: the flat index of every source in the ``(V+1,)*L`` table, in C order of the clean
        positions (masked positions hold the mask)."""
        strides = (self.vocab_size + 1) ** np.arange(self.length - 1, -1, -1, dtype=np.int64)
        grid = np.indices((self.vocab_size,) * len(self.clean), dtype=np.int64).reshape(len(self.clean), self.sources)
        return self.vocab_size * int(strides[list(self.masked)].sum()) + strides[list(self.clean)] @ grid

    def block_view(self, compact, dims, sources_first=False):
        """A product formed as (outcomes of the masked positions, N) — ``dims`` the outcome axis of each
        masked position in order (1, V or V+1) — or as (N, outcomes) if ``sources_first``, viewed in
        block layout (position order)."""
        outcomes, sources = tuple(dims), (self.vocab_size,) * len(self.clean)
        if sources_first:
            blocked, order = compact.reshape(sources + outcomes), self.clean + self.masked
        else:
            blocked, order = compact.reshape(outcomes + sources), self.masked + self.clean
        return np.transpose(blocked, [order.index(a) for a in range(self.length)])

    def reveal(self, outcome, parked=False):
        """The :class:`BlockMove` of a reveal step's block-layout ``outcome``: clean positions kept, each
        masked axis of size V+1 a token or the mask, V a token, 1 the mask (``parked``: the move stops its
        sequences' loop, :mod:`refimpl.engine.moves`)."""
        index = reveal_index(self.pattern, outcome.shape, self.vocab_size)
        return BlockMove(self.pattern, index, outcome, self.vocab_size, parked)


class CountStates:
    r"""The sources of P mask patterns with the same numbers of masked positions and of candidates e.

    ``patterns`` (P, L); ``at`` (P, e) the candidates, increasing; ``index`` (P, N) the sources' flat
    indices; ``weight`` (P, N) their mass.  :meth:`conditionals` reads the denoiser at the candidates.
    """

    def __init__(self, patterns, at, index, weight, reader, vocab_size, work=FRESH):
        self.patterns, self.at, self.index, self.weight = patterns, at, index, weight
        self.vocab_size, self.length = vocab_size, patterns.shape[1]
        self.work = work
        self._reader = reader

    def conditionals(self):
        r""":math:`\mu(z)_{j,v}` (e, V, P, N) at the candidates, for every source (arrays of the workspace)."""
        return self._reader.gather(self.index, self.at, self.work)

    def reveal(self, slots, probs, fresh=False):
        """The :class:`ScatterMove` of revealing the candidates ``at[:, slots[s]]`` with every token
        assignment (``value_grid`` order): ``probs`` (n_sub, V**k, P N) in the layout of
        :func:`refimpl.samplers.kernels.subsets.grid_product`.  ``fresh``: its destinations in a new array, not the
        workspace (for a step that returns several reveal moves)."""
        offsets = reveal_offsets(self.at, slots, self.vocab_size, self.length).transpose(1, 2, 0)[..., None]
        shape = probs.shape[:2] + self.index.shape  # (n_sub, G, P, N)
        out = None if fresh else self.work.scratch("destination", shape, np.int64)
        destination = np.add(self.index, offsets, out=out)

        def after():  # (n_sub, P, L): the pattern each subset of each pattern lands in
            bits = np.int64(1) << (self.length - 1 - self.at[:, slots])  # (P, n_sub, k)
            codes = (pattern_codes(self.patterns)[:, None] - bits.sum(axis=2)).T  # (n_sub, P)
            return code_patterns(codes.ravel(), self.length).reshape(codes.shape + (self.length,))

        return ScatterMove(self.patterns, after, destination, probs.reshape(shape))

    def stay(self, probability=1.0):
        """The :class:`ScatterMove` of leaving every source where it is (with ``probability``: that share of its
        mass)."""
        shape = (1, 1) + self.index.shape
        weight = self.weight if probability == 1.0 else self.weight * probability
        return ScatterMove(self.patterns, lambda: self.patterns[None], self.index.reshape(shape), weight.reshape(shape))
