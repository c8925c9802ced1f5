"""Fuzzing refimpl's public API and CLI with malformed inputs (issue #10).

Every public entry point is called with arguments drawn from pools that mix valid values with wrong
shapes, dtypes, NaN/inf, negative or unnormalised laws, out-of-range tokens, masks where clean tokens
are required, absurd sizes, garbage denoisers and broken files.  The only exceptions allowed to escape
are :class:`refimpl.RefimplError` subclasses with a message.  ``python -m tests.fuzz [examples]`` runs a
long profile and prints the tally that README's "Guarantees" quotes.
"""
import collections
import io
import os
import sys
import tempfile

import numpy as np
import refimpl
import refimpl.testing as rt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from refimpl import denoisers, samplers
from refimpl.diffusion import elbo, forward, schedules
from refimpl.interop import adapters, vectors, verify
from refimpl.laws import datasets, metrics, space
from refimpl.models import checkpoint, mlp, train
from refimpl.testing import strategies as rst

TALLY = collections.Counter()
GOOD_LAW = np.full((2, 3), 0.0) + 1 / 6  # not square on purpose: (2, 3) is *not* a law
LAW = datasets.dirichlet(2, 3, np.random.default_rng(0)).table


def _garbage():
    arrays = [np.array([np.nan, 1.0]), np.array([-0.5, 1.5]), np.array([0.2, 0.2]), np.ones((2, 3)) / 6,
              np.ones((2, 2, 2), dtype=np.float32) / 8, np.ones((2, 2), dtype=complex) / 4,
              np.array([[1, 0], [0, 0]]), np.array(["a", "b"]), np.array([None, 1.0], dtype=object),
              np.zeros((0, 3)), np.full((2, 2), np.inf), np.array(5.0), np.ones((1, 1)), np.eye(3),
              np.array([[0, 1, 2]]), np.array([[0, 9, 1]]), np.array([[-1, 0, 1]]), np.array([0.5, 1.5, 2.0])]
    scalars = [None, "x", "", b"bytes", 1.5, -1, 0, 2**70, -(2**70), float("nan"), float("inf"), True, 1e-300,
               [], [[]], [[0, 1], [2]], {"a": 1}, object(), (1, "a"), {1, 2}, lambda z: None, 3j]
    return st.sampled_from(arrays + scalars)


def slot(*valid):
    """A slot's values: sometimes valid, often garbage."""
    return st.one_of(st.sampled_from(list(valid)), _garbage()) if valid else _garbage()


def _bad_denoisers():
    def nan_rows(z):
        return np.full(z.shape + (2,), np.nan)

    def ragged(z):
        return [[0.5, 0.5], [1.0]]

    def raises(z):
        raise ValueError("model exploded")

    def wrong_shape(z):
        return np.ones((1, 1, 1))

    def unnormalised(z):
        return np.full(z.shape + (2,), 0.3)

    def object_out(z):
        return "probabilities"

    return [nan_rows, ragged, raises, wrong_shape, unnormalised, object_out, 42, None]


ORACLE = refimpl.oracle_denoiser(LAW)
DENOISERS = [ORACLE] + _bad_denoisers()
SAMPLERS = [samplers.RandomK(1), samplers.LLaDA(3, temperature=1.0), None, "llada", samplers.LLaDA(2, block_length=2),
            samplers.Threshold(0.5, 1, 1.0), samplers.Ancestral(steps=3, cache=True),
            samplers.Dream(2, "maskgit_plus", 0.5, top_p=0.8, top_k=1), samplers.Factor(1.0, temperature=1.0),
            # issue #37's families
            samplers.EntropyThreshold(0.5, temperature=1.0), samplers.MultiBlock(0.5, 1, 0.0, temperature=1.0,
                                                                                 original="d3llm-dream"),
            samplers.JointThreshold(0.6, 0.5, 1, temperature=1.0, original="hf"), samplers.HierarchyBlock(0.5),
            samplers.ShiftConfidence(num_small_blocks=1), samplers.LinearSpec(), samplers.Nemotron(temperature=1.0),
            samplers.LowConfidence(temperature=1.0), samplers.DllmMDLM(3, temperature=1.0, stochastic=True),
            samplers.PCSampler(3, temperature=1.0), samplers.InfoGain(3), samplers.InfoGain(3, temperature=1.0)]
SCHEDULES = [schedules.Linear(), schedules.Cosine(), "linear", None,
             schedules.FromFunctions(lambda t: t, lambda t: np.ones_like(t))]
RNG = np.random.default_rng(0)


def _file(content):
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=".npz")
    handle.write(content)
    handle.close()
    return handle.name


FILES = [_file(b""), _file(b"PK\x03\x04 truncated"), _file(os.urandom(64)), "/nonexistent/file.npz", None, 12]

def _verdict(assertion, *args, **kwargs):
    """refimpl.testing's assertions may also fail, with a message: a verdict, not an escape."""
    try:
        assertion(*args, **kwargs)
    except AssertionError as error:
        if not str(error).strip():
            raise RuntimeError("an assertion failed without a message") from None


def _no_verdict_unless_valid(result, settings):
    """A verdict (``passed``) from verify_sampler is only allowed for a sample size, false-alarm rate and seed that
    make a test: n >= 1, 0 < alpha < 1, seed >= 0 (integers, not bools)."""
    n, alpha, seed = settings
    whole = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))  # noqa: E731
    valid = (whole(n) and n >= 1 and whole(seed) and seed >= 0 and isinstance(alpha, (float, int))
             and not isinstance(alpha, bool) and 0 < alpha < 1)
    if not valid:
        raise RuntimeError(f"verify_sampler returned a verdict for n={n!r}, alpha={alpha!r}, seed={seed!r}")
    return result


def _sample_fns():
    def good(den, n, rng, length, vocab_size, prompt):
        return refimpl.sample(den, samplers.RandomK(1), n, rng, length, vocab_size, prompt)

    def with_calls(den, n, rng, length, vocab_size, prompt):
        return good(den, n, rng, length, vocab_size, prompt), np.full(n, 3)

    return [good, with_calls, lambda *a: "samples", lambda *a: (1, 2, 3), lambda *a: np.full((50, 3), 7), None,
            lambda *a: (np.zeros((50, 3), dtype=int), "calls")]


def _losses():
    def good(logits, x0, z, t):
        return np.where(z == 2, -np.take_along_axis(logits, x0[..., None], -1)[..., 0], 0.0).sum(1) / t

    return [good, lambda *a: 0.0, lambda logits, x0, z, t: np.full(t.shape, np.nan), lambda *a: "loss",
            lambda logits, x0, z, t: np.zeros((len(t), 2)), None]


SAMPLE_FNS, LOSSES = _sample_fns(), _losses()


CALLS = {
    "entropy": (lambda a: refimpl.entropy(a[0]), [slot(LAW)]),
    "marginal": (lambda a: refimpl.marginal(a[0], a[1]), [slot(LAW), slot(0, (0, 2), [1])]),
    "conditional_marginals": (lambda a: refimpl.conditional_marginals(a[0], a[1]), [slot(LAW), slot([2, 0, 2], [1, 1, 1])]),
    "conditional_law": (lambda a: refimpl.conditional_law(a[0], a[1]), [slot(LAW), slot([2, 2, 2], [0, 2, 1])]),
    "total_correlation": (lambda a: refimpl.total_correlation(a[0], a[1], positions=a[2], average=a[3]),
                          [slot(LAW), slot(None, [2, 0, 2]), slot(None, (0, 2)), slot(False, True)]),
    "mutual_information": (lambda a: refimpl.mutual_information(a[0], a[1], a[2]), [slot(LAW), slot(0), slot(2, (1, 2))]),
    "kl_tv": (lambda a: (refimpl.kl(a[0], a[1]), refimpl.tv(a[0], a[1])), [slot(LAW), slot(LAW)]),
    "Law": (lambda a: refimpl.Law(a[0], counts=a[1]), [slot(LAW), slot(None)]),
    "empirical": (lambda a: datasets.empirical(a[0], vocab_size=a[1]), [slot([[0, 1, 1]], [[0, 1], [1, 1]]), slot(None, 2)]),
    "dirichlet": (lambda a: datasets.dirichlet(a[0], a[1], a[2], a[3]), [slot(2), slot(3), slot(RNG), slot(1.0, 0.1)]),
    "markov_chain": (lambda a: datasets.markov_chain(a[0], a[1], a[2]), [slot([0.5, 0.5]), slot(np.eye(2)), slot(3)]),
    "parity_product": (lambda a: (datasets.parity(a[0], a[1]), datasets.product(a[2])),
                       [slot(2), slot(3), slot([[0.5, 0.5]])]),
    "coupled_pairs": (lambda a: datasets.coupled_pairs(a[0], a[1]), [slot(((0, 1), (2, 3))), slot(None, [0.3, 0.7])]),
    "space": (lambda a: (space.size(a[0], a[1]), space.encode(a[2], a[0]), space.decode(a[3], a[0], a[1])),
              [slot(2), slot(3), slot([[0, 1, 1]]), slot(3, [0, 7])]),
    "enumerate": (lambda a: space.enumerate_sequences(a[0], a[1], partial=a[2]), [slot(2), slot(3), slot(True, False)]),
    "schedule_ctor": (lambda a: (schedules.Polynomial(a[0]), schedules.LogLinear(a[1]), schedules.Geometric(a[2], a[3])),
                      [slot(2.0), slot(1e-3), slot(1e-4), slot(20.0)]),
    "schedule_eval": (lambda a: (a[0].alpha(a[1]), a[0].weight(a[1]), schedules.check_schedule(a[0])),
                      [st.sampled_from(SCHEDULES[:2]), slot(0.5, [0.1, 0.9])]),
    "check_schedule": (lambda a: schedules.check_schedule(a[0]), [st.sampled_from(SCHEDULES)]),
    "forward": (lambda a: (forward.token_kernel(a[1], 2), forward.forward_law(a[0], a[1]),
                           forward.sample_forward(a[2], a[1], RNG, 2)),
                [slot(LAW), slot(0.3), slot([[0, 1, 1]])]),
    "posterior": (lambda a: (forward.posterior(a[0], a[1], a[2], a[3], 2),
                              forward.reverse_kernel(a[0], a[4], a[2], a[3], 2)),
                  [slot([[2, 1, 2]]), slot([[0, 1, 1]]), slot(0.8), slot(0.3), slot(np.full((1, 3, 2), 0.5))]),
    "oracle": (lambda a: (refimpl.oracle_denoiser(a[0])(a[1]), denoisers.oracle_denoiser(a[0], precompute=False)(a[1])),
               [slot(LAW), slot(np.array([[2, 0, 2]]))]),
    "evaluate": (lambda a: denoisers.evaluate(a[0], a[1], 2), [st.sampled_from(DENOISERS), slot(np.array([[2, 0, 2]]))]),
    "tabulate": (lambda a: denoisers.tabulate(a[0], a[1], 3), [st.sampled_from(DENOISERS), slot(2)]),
    "nelbo": (lambda a: refimpl.nelbo(a[0], a[1], schedule=a[2], steps=a[3]),
              [st.sampled_from(DENOISERS), slot(LAW), st.sampled_from(SCHEDULES), slot(None, 3)]),
    "nelbo_mc": (lambda a: elbo.nelbo_monte_carlo(a[0], a[1], a[2], RNG, form=a[3]),
                 [st.sampled_from(DENOISERS), slot(LAW), slot(50), slot("time", "any_order")]),
    "exact_law": (lambda a: refimpl.exact_law(a[0], a[1], length=a[2], vocab_size=2, prompt=a[3]),
                  [st.sampled_from(DENOISERS), st.sampled_from(SAMPLERS), slot(3), slot(None, [2, 2, 2], [0, 2, 2])]),
    "draw": (lambda a: refimpl.engine.draw(refimpl.problem(a[0], a[1], 3, 2, prompt=a[3]), a[2], RNG),
             [st.sampled_from(DENOISERS), st.sampled_from(SAMPLERS), slot(4, 0, -1, 2.5, "4"), slot(None, [0, 2, 2])]),
    "run": (lambda a: refimpl.run(refimpl.problem(a[0], a[1], 3, 2, prompt=a[3]), reveals=a[2], ties=a[2]),
            [st.sampled_from(DENOISERS), st.sampled_from(SAMPLERS), slot(True, False), slot(None, [0, 2, 2])]),
    "expected_calls": (lambda a: refimpl.expected_calls(a[0], a[1], length=a[2], vocab_size=2, prompt=a[3], by_step=a[4]),
                       [st.sampled_from(DENOISERS), st.sampled_from(SAMPLERS), slot(3), slot(None, [2, 2, 2], [0, 2, 2]),
                        slot(False, True)]),
    "sample": (lambda a: refimpl.sample(a[0], a[1], a[2], a[3], length=3, vocab_size=2, prompt=a[4]),
               [st.sampled_from(DENOISERS), st.sampled_from(SAMPLERS), slot(10), slot(RNG), slot(None, [0, 2, 2])]),
    "sampler_ctor": (lambda a: (samplers.LLaDA(a[0], a[1], a[2], a[3]),
                                samplers.Dream(a[0], "entropy", a[2], a[4], a[4], a[0], a[2]),
                                samplers.Threshold(a[4], a[1], a[2]), samplers.Factor(a[4], a[1], a[2]),
                                samplers.RandomK(a[0]), samplers.SemiAR(a[0], a[5]),
                                samplers.FixedOrder(a[5]), samplers.Ancestral(a[5], a[0], a[4]),
                                samplers.Ancestral(steps=a[0], cache=a[2])),
                     [slot(3), slot(None, 1), slot(1.0), slot("low_confidence", "random"), slot(0.5),
                      slot(samplers.RandomK(1), [[0], [1, 2]])]),
    "metrics": (lambda a: (metrics.law_metrics(a[0], a[1], a[2]), metrics.reveal_decomposition(a[0], a[3], a[2])),
                [slot(LAW), slot(LAW), slot(None, [0, 2, 2]), slot([[0, 1], [2]], [[1], [2]])]),
    "mlp": (lambda a: mlp.MLP(mlp.MLPConfig(2, 3, a[0], a[1]),
                               mlp.init_params(mlp.MLPConfig(2, 3, (4,), "tanh"), RNG))(a[2]),
            [slot((4,)), slot("tanh", "gelu"), slot(np.array([[2, 0, 1]]))]),
    "train": (lambda a: train.train(a[0], mlp.MLPConfig(2, 3, (4,), "tanh"), train.TrainConfig(steps=a[1], batch_size=a[2],
                                                                                            lr=a[3], masking=a[4])),
              [slot(LAW, [[0, 1, 1], [1, 0, 0]]), slot(2), slot(4), slot(1e-3), slot("random", "blockwise")]),
    "checkpoint_load": (lambda a: checkpoint.load(a[0]), [st.sampled_from(FILES)]),
    "vectors_check": (lambda a: vectors.check(a[0]), [st.sampled_from(FILES)]),
    "adapters": (lambda a: adapters.from_model(a[0], 2, output=a[1], mask_column=a[2])(np.array([[2, 0, 2]])),
                 [st.sampled_from([lambda z: np.zeros(z.shape + (3,)), lambda z: "x",
                                   lambda z: np.full(z.shape + (2,), np.nan)]),
                  slot("logits", "probs"), slot(True, False)]),
    "verify": (lambda a: verify.verify_denoiser(a[0], a[1], tolerance=a[2]),
               [st.sampled_from(DENOISERS), slot(LAW), slot(1e-6, 0.0)]),
    "verify_sampler": (lambda a: _no_verdict_unless_valid(verify.verify_sampler(a[0], a[1], a[2], LAW, n=a[3],
                                                                                alpha=a[4], seed=a[5]), a[3:6]),
                       [st.sampled_from(SAMPLE_FNS), st.sampled_from(SAMPLERS[:2]), st.sampled_from(DENOISERS),
                        slot(20, 1), slot(1e-3, 0.5), slot(0)]),
    "memory_limit": (lambda a: refimpl.memory_limit(a[0]).__enter__(), [slot(10**9)]),
    "testing_laws_close": (lambda a: _verdict(rt.assert_laws_close, a[0], a[1], atol=a[2], tv=a[3]),
                           [slot(LAW), slot(LAW), slot(1e-12), slot(None, 0.1)]),
    "testing_denoiser_optimal": (lambda a: _verdict(rt.assert_denoiser_optimal, a[0], a[1], tolerance=a[2]),
                                 [st.sampled_from(DENOISERS), slot(LAW), slot(1e-6)]),
    "testing_samples_match": (lambda a: _verdict(rt.assert_samples_match, a[0], a[1], alpha=a[2], top=a[3]),
                              [slot([[0, 1, 1]] * 3, np.zeros((5, 3), dtype=int)), slot(LAW), slot(1e-3), slot(5)]),
    "testing_sampler_matches": (lambda a: _verdict(rt.assert_sampler_matches, a[0], a[1], a[2], a[3], n=a[4], seed=a[5],
                                                   blind_spots=a[6]),
                                [st.sampled_from(SAMPLE_FNS), st.sampled_from(SAMPLERS), st.sampled_from(DENOISERS),
                                 slot(LAW), slot(50), slot(0), slot("warn", "ignore", "error")]),
    "testing_propose_setting": (lambda a: rt.propose_setting(a[0], vocab_size=a[1], length=a[2], min_tv=a[3], slips=a[4],
                                                             laws=a[5], p=a[6]),
                                [st.sampled_from(SAMPLERS), slot(2), slot(3), slot(0.05),
                                 slot(None, ["temperature not applied"]), slot(1), slot(None, LAW)]),
    "testing_torch_adapters": (lambda a: (rt.as_torch_model(a[0], a[1], mask_column=a[2], mask_logit=a[3]),
                                          rt.from_torch_sampler(a[4], mask_column=a[2], mask_logit=a[3])),
                               [st.sampled_from(DENOISERS), slot(2), slot(True, False), slot(0.0, float("-inf")),
                                slot(lambda model, x, mask_id, generator: x)]),
    "testing_samplers_fixed": (lambda a: rst.samplers(3, families=a[0], fixed=a[1]),
                               [slot(["llada"], ["threshold", "random_k"]), slot(None, {"cfg_scale": 0.0}, {"steps": 3})]),
    "testing_calls_match": (lambda a: _verdict(rt.assert_calls_match, a[0], a[1], a[2], 3, 2),
                            [slot([3, 3, 3], [1.5, 2.0]), st.sampled_from(SAMPLERS), st.sampled_from(DENOISERS)]),
    "testing_loss": (lambda a: _verdict(rt.assert_loss_matches_nelbo, a[0], a[1], schedule=a[2], per=a[3],
                                        reduction=a[4], nodes=a[5]),
                     [st.sampled_from(LOSSES), slot(LAW), st.sampled_from(SCHEDULES), slot("sequence", "token"),
                      slot("none", "mean"), slot(4)]),
    "testing_denoisers": (lambda a: (rt.random_denoiser(a[0], a[1], a[2], a[3]), rt.perturbed_oracle(LAW, a[4]),
                                     rt.fixed_mlp(a[0], a[1], hidden=a[5])),
                          [slot(2), slot(3), slot(0), slot(1.0), slot(0.1), slot((4,))]),
    "testing_sampler": (lambda a: rt.sampler(a[0], **a[1]),
                        [slot("llada", "first_hitting"), st.sampled_from([{}, {"steps": 2}, {"steps": "x"}, {"nope": 1}])]),
    "testing_scale": (lambda a: (rt.set_scale(a[0]), rt.set_scale(None)), [slot(2.0)]),
    "testing_strategies": (lambda a: (rst.spaces(a[0], a[1]), rst.laws(a[0], a[1], kinds=a[2]),
                                      rst.partial_sequences(a[3], positive=a[4]), rst.samplers(a[1], families=a[2]),
                                      rst.denoisers(a[3], kinds=a[2])),
                           [slot(3), slot(2), slot("dirichlet", ["markov"]), slot(LAW), slot(True)]),
}




def call_clean(name, values):
    """Run one call; count it; return the escaped exception (None when clean)."""
    function, _ = CALLS[name]
    TALLY["tried"] += 1
    try:
        function(values)
    except refimpl.RefimplError as error:
        if not str(error).strip():
            TALLY["escaped"] += 1
            return error
        TALLY["rejected cleanly"] += 1
        return None
    except Exception as error:  # noqa: BLE001 - anything else is an escape
        TALLY["escaped"] += 1
        return error
    TALLY["accepted"] += 1
    return None


@st.composite
def api_calls(draw):
    name = draw(st.sampled_from(sorted(CALLS)))
    values = [draw(strategy) for strategy in CALLS[name][1]]
    return name, values


CLI_WORDS = ["law", "train", "verify", "vectors", "bogus", "--json", "--debug", "--data", "dirichlet", "parity",
             "markov", "nothing", "--vocab-size", "2", "-3", "x", "--length", "2", "0", "--sampler", "llada",
             "ancestral", "fixed", "--steps", "1", "abc", "--sets", "1;2", "9,9", "--prompt", "0 M", "Z Z",
             "--temperature", "nan", "-1", "--block-length", "5", "--threshold", "2", "--tokens-per-step", "0,1",
             "--data-file", "/nonexistent.txt", "--check", "/nonexistent.json", "--out", "/proc/forbidden/x.npz",
             "--as", "dream", "tests.targets:good_denoiser", "nomodule:f", "--hidden", "a,b", "--batch-size",
             "--schedule", "cosine", "--alg", "entropy", "--remasking", "random", "--denoiser", "/nonexistent.npz",
             "--cache", "threshold", "--samples", "-5", "--alpha", "--tolerance", "nan", "--workers", "--epsilon",
             "--figures", "--progress", "--quiet", "--letters"]


def cli_call(argv):
    """Run the CLI in-process: it must end with an exit status, and print one line on errors.

    It runs in a scratch directory, so files named by ``--out`` land there, not in the checkout.
    """
    from refimpl.cli.main import main

    TALLY["tried"] += 1
    err = io.StringIO()
    old, cwd = sys.stderr, os.getcwd()
    sys.stderr = err
    try:
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)
            try:
                code = main(argv, out=io.StringIO())
            finally:
                os.chdir(cwd)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    except Exception as error:  # noqa: BLE001
        TALLY["escaped"] += 1
        return error
    finally:
        sys.stderr = old
    message = err.getvalue().strip()
    if "--progress" in argv and code != 2:  # status lines: only the error's line is judged
        message = message.splitlines()[-1] if message else message
    one_line = "--debug" in argv or ("Traceback" not in message and message.count("\n") == 0)
    if code in (0, 1) and _refused_setting(argv):
        TALLY["escaped"] += 1
        return AssertionError(f"exit {code} (a verdict or a result) for a setting that must be refused: {argv}")
    if code == 3 or (code not in (0, 1) and (not message or not one_line)):
        TALLY["escaped"] += 1
        return AssertionError(f"exit {code} with message {message!r}")
    TALLY["rejected cleanly" if code else "accepted"] += 1
    return None


REFUSED = {"--samples": ("0", "-5", "-3", "-1", "nan", "x", "abc"), "--alpha": ("0", "2", "-1", "nan", "-3", "x"),
           "--tolerance": ("-1", "-3", "nan", "x")}


def _refused_setting(argv):
    """The last value given to --samples, --alpha or --tolerance is one that no test can run with."""
    for flag, bad in REFUSED.items():
        if flag in argv:
            where = len(argv) - 1 - argv[::-1].index(flag)
            if where + 1 < len(argv) and argv[where + 1] in bad:
                return True
    return False


FUZZ_SETTINGS = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
CLI_LISTS = st.lists(st.sampled_from(CLI_WORDS), min_size=1, max_size=8)


def _api_body(call):
    name, values = call
    escaped = call_clean(name, values)
    assert escaped is None, f"{name}{tuple(values)!r} escaped with {type(escaped).__name__}: {escaped}"


def _cli_body(argv):
    if argv[0] == "train" and "--steps" not in argv:
        argv = argv + ["--steps", "2"]
    escaped = cli_call(argv)
    assert escaped is None, f"refimpl {' '.join(argv)} escaped: {escaped}"


fuzz_api = FUZZ_SETTINGS(given(api_calls())(_api_body))
fuzz_cli = settings(FUZZ_SETTINGS, max_examples=500)(given(CLI_LISTS)(_cli_body))


def main(argv=None):
    """Long profile: ``python -m tests.fuzz [examples per target]`` (random, not derandomised)."""
    argv = sys.argv[1:] if argv is None else argv
    examples = int(argv[0]) if argv else 20000
    long = settings(FUZZ_SETTINGS, max_examples=examples, derandomize=False)
    long(given(api_calls())(_api_body))()
    long(given(CLI_LISTS)(_cli_body))()
    print(f"inputs tried: {TALLY['tried']}, accepted: {TALLY['accepted']}, "
          f"rejected cleanly: {TALLY['rejected cleanly']}, escaped: {TALLY['escaped']}")


if __name__ == "__main__":
    main()
