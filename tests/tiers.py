"""Which tests are ``slow``: they run from the benchmarks (``python -m benchmarks``, whose full run ends with
``python -m pytest -m slow``), not in the suite, which has to stay under 3 minutes on 2 cores (the brief).

Marked here, in one place, by node id (``*`` matches anything, nothing else is special), each with what it costs in
the suite (``--durations``, 2 xdist workers, this repository's 2-core machine) and what the suite still runs of the
same check.  ``tests/conftest.py`` applies the list; ``tests/test_tiers.py`` checks that every entry names a test
that exists.  Two kinds:

- checks that run a whole program in a subprocess or for a long time (pytest on a generated suite, the benchmark
  runner, the examples against torch and diffusers, killed-and-resumed runs, a Dask cluster, power studies of the
  statistical checks themselves);
- the oracle's half of the Monte Carlo checks that run each sampler under two denoisers — the suite keeps the
  other denoiser's half (a random denoiser, consistent with no law: the more general).

tests/samplers/test_cases.py marks its own rows after each family's first ``slow`` (every family keeps a row in the
suite, under the random denoiser).
"""
import re

SLOW = {
    # pytest on generated suites, in subprocesses (about 30 s each); the suite keeps test_scale_in_process and the
    # seed's own test
    "tests/testing/test_plugin.py::test_the_monte_carlo_scale_option_and_environment_variable": "36 s",
    "tests/testing/test_plugin.py::test_fixtures_are_seeded_per_test_and_the_same_in_every_run": "29 s",
    "tests/testing/test_plugin.py::test_sampling_assertions_without_a_seed_draw_from_the_tests_seed": "28 s",
    # docs/testing.md's example files under pytest in subprocesses
    "tests/testing/test_docs.py::test_each_example_file_passes[test_diffusers_scheduler.py]": "14 s",
    "tests/testing/test_docs.py::test_each_example_file_passes[test_torch_sampler.py]": "8 s",
    "tests/testing/test_docs.py::test_each_example_file_passes[test_torch_model.py]": "8 s",
    "tests/testing/test_docs.py::test_each_example_file_passes[test_loss.py]": "6 s",
    "tests/testing/test_docs.py::test_each_example_file_passes[test_numpy_sampler.py]": "5 s (the guide's own tests "
                                                                                        "stay: its table, its files)",
    "tests/testing/test_user_suite.py::test_the_user_suite_passes_the_correct_implementations_and_fails_the_slips_*":
        "11 s (examples/user_suite/ under pytest on torch)",
    "tests/interop/test_examples.py::test_worked_torch_example_catches_a_wrong_loss_weight_and_tempered_confidence":
        "11 s",
    # whole programs
    "tests/test_benchmarks.py::test_quick_runner_runs_and_records_the_machine": "56 s (python -m benchmarks --smoke)",
    "tests/test_benchmarks.py::test_frontier_rows_obey_the_theorems": "(the same run; the suite checks the theorems on "
                                                                      "frontier_rows in process)",
    "tests/experiments/test_sweep.py::test_a_killed_sweep_finishes_where_it_stopped": "20 s",
    "tests/experiments/test_sweep.py::test_a_local_dask_cluster_gives_the_same_bytes": "5 s",
    "tests/models/test_train.py::test_a_killed_cli_run_resumes_bit_identical": "15 s",
    "tests/core/test_fuzz.py::test_cli_exits_with_one_readable_line": "11 s (500 command lines)",
    "tests/core/test_float32.py::test_the_grid_and_the_counts_are_torchs": "21 s (every grid to 4096 steps in torch)",
    # the paper's trainings (the suite's paper run trains each MLP for 100 steps: every exact number the same)
    "tests/experiments/test_experiments.py::test_toy_mlp_marginals_are_within_0_05_of_exact": "62 s",
    # one-off long checks, each with a shorter one of the same kind left in the suite
    "tests/models/test_train.py::test_training_reaches_the_entropy_within_0_02_nats": "10 s (a full training; "
                                                                                      "test_mlp's gradients stay)",
    "tests/limits/test_limits.py::test_the_adaptive_optimum_against_every_policy[5-3]": "8 s (the smaller sizes stay)",
    "tests/core/test_float32.py::test_the_grid_is_torch_cpus_linspace_rewritten_exactly": "7 s (every grid in torch; "
                                                                                          "test_grids32 stays)",
    "tests/experiments/test_sweep.py::test_the_frontier_and_the_prescriptions_grid_run_side_by_side_on_a_pool": "6 s",
    "tests/experiments/test_sweep.py::test_the_frontier_command_as_a_resumable_sweep": "6 s (the sweep's own "
                                                                                         "resumption tests stay)",
    "tests/experiments/test_figures.py::test_frontier_figures_from_the_command_line": "3 s (the figure's own test "
                                                                                      "stays)",
    "tests/samplers/test_remdm_conf.py::test_code_and_documented_schedules_differ_exactly": "6 s",
    "tests/samplers/test_precision_samplers.py::test_low_precision_noise_is_the_loop_with_that_noise[*-float16]":
        "8 s (the bfloat16 rows stay)",
    "tests/samplers/test_ties.py::test_torch_topk_order_reproduces_a_dream_loop_that_calls_torch": "4 s",
    "tests/samplers/test_ties_editing.py::test_the_pipeline_paths_are_the_pipeline_loop": "4 s (the per-rule paths "
                                                                                         "stay)",
    "tests/samplers/test_entropy_bound.py::test_a_slip_is_caught[bound-includes-the-largest]": "3 s (the other "
                                                                                              "slip stays)",
    "tests/samplers/test_entropy_bound.py::test_the_original_loop_agrees_with_the_exact_law_and_calls[gamma=0.0-*]":
        "3 s (four settings stay)",
    "tests/samplers/test_cases.py::test_draws_follow_the_exact_law_and_the_exact_calls[94: ReMDM(steps=4, "
    "remasking='conf')*": "2 s (ReMDM's confidence schedule: four other rows and tests/samplers/test_remdm_conf.py "
                          "stay)",
    "tests/samplers/test_cases.py::test_draws_follow_the_exact_law_and_the_exact_calls[98: ReMDM(steps=4, "
    "remasking='conf', eta=0.4*": "2 s",
    "tests/samplers/test_ties.py::test_draws_follow_the_exact_law_under_each_rule[*-random0]": "4 s in all (the "
                                                                                              "other rules stay)",
    "tests/samplers/test_ties.py::test_draws_follow_the_exact_law_under_each_rule[*-random1]": "",
    "tests/samplers/test_ties.py::test_draws_follow_the_exact_law_under_each_rule[*-random2]": "",
    "tests/samplers/test_multi_block.py::test_the_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls"
    "[*-dream]": "4 s in all (d3LLM's loops; sglang's, the default, stays)",
    "tests/samplers/test_multi_block.py::test_the_greedy_code_is_a_point_mass_at_the_loops_output_with_its_calls"
    "[*-llada]": "",
    "tests/core/test_fuzz.py::test_public_api_raises_only_refimpl_errors": "3 s (python -m tests.fuzz runs more)",
    "tests/core/test_reliability.py::test_every_sampler_is_deterministic_across_runs_and_process_restarts":
        "3 s (subprocesses; the thread-count test stays)",
    # settings of a family's original-loop checks beyond the ones the suite keeps (the suite's margin under 3
    # minutes: 165 s here with all of them)
    "tests/samplers/test_llada2.py::test_the_pipeline_loop_agrees_with_the_exact_law_and_calls[steps=3-*]":
        "1.5 s (three settings stay)",
    "tests/samplers/test_llada2.py::test_the_pipeline_loop_agrees_with_the_exact_law_and_calls[steps=4-threshold=0.6*":
        "1.2 s",
    "tests/samplers/test_llada2.py::test_the_pipeline_loop_agrees_with_the_exact_law_and_calls[steps=2-threshold=0.8*":
        "1.9 s",
    "tests/samplers/test_entropy_bound.py::test_the_original_loop_agrees_with_the_exact_law_and_calls[gamma=0.8-*]":
        "1.4 s (three settings stay)",
    "tests/samplers/test_info_gain.py::test_the_loop_matches_the_exact_law_and_calls[settings2-None]": "1.8 s (four "
                                                                                                     "settings stay)",
    "tests/samplers/test_info_gain.py::test_the_loop_matches_the_exact_law_and_calls[settings0-None]": "1.8 s",
    "tests/samplers/test_info_gain_temperature.py::test_the_loop_at_a_temperature_matches_the_exact_law_and_calls"
    "[settings0-None]": "2.1 s (three settings stay)",
    "tests/samplers/test_joint_threshold.py::test_each_tie_rule_follows_every_path_of_the_loop[random]": "1.8 s (the "
                                                                                                        "other rules "
                                                                                                        "stay)",
    "tests/samplers/test_discrete_ddim.py::test_the_installed_scheduler_follows_the_exact_law": "5 s (diffusers and "
                                                                                               "torch; the loop "
                                                                                               "re-written from it "
                                                                                               "stays)",
    "tests/samplers/test_entropy_bound_uniform.py::test_the_installed_scheduler_step_follows_the_exact_law":
        "6.8 s (diffusers and torch; the pipeline's loop re-written from it stays)",
    "tests/samplers/test_block_refinement_uniform.py::test_the_installed_scheduler_step_follows_the_exact_law":
        "7.1 s (diffusers and torch; the pipeline's loop re-written from it stays)",
    "tests/samplers/test_discrete_ddim.py::test_the_installed_scheduler_with_its_corrector_follows_the_exact_law":
        "4.9 s (diffusers and torch; the pipeline's loop re-written from it stays)",
    "tests/limits/test_depth.py::test_WLL5_the_walks_zero_error_depth_at_seven": "3.4 s (n = 1..6 stay)",
    "tests/limits/test_depth.py::test_WLL5_the_walks_zero_error_depths[6-3.0]": "0.75 s (n = 1..5 stay)",
    "tests/limits/test_depth.py::test_WLL4_the_walk_bisection_and_contiguous_scans[6]": "0.97 s (n = 1..5 stay)",
    "tests/experiments/test_beyond_mask.py::test_the_command_prints_the_report_and_draws_the_figure": "1.7 s (the "
                                                                                                     "report's checks "
                                                                                                     "stay)",
    "tests/models/test_uniform_mlp.py::test_training_moves_each_model_towards_the_minimiser_of_its_loss": "1.5 s (the "
                                                                                                       "gradients' "
                                                                                                       "checks stay)",
    "tests/experiments/test_bounds.py::test_the_search_finds_each_bounds_worst_ratio_on_the_first_law_reaching_it":
        "1.3 s (every bound's check on random laws stays)",
    "tests/samplers/test_uniform_ancestral.py::test_the_chains_loss_is_at_most_the_sum_of_its_steps_losses": "0.9 s (the "
                                                                                                          "one-step "
                                                                                                          "identity "
                                                                                                          "stays)",
    "tests/diffusion/test_elbo.py::test_equivalent_forms_agree": "4.0 s (the NELBO's other checks stay)",
    # power studies of the checks themselves (thousands of simulated checks each)
    "tests/testing/test_power.py::*": "36 s in all",
    # the oracle's half of the two-denoiser Monte Carlo checks (the perturbed denoiser's half stays)
    "tests/samplers/test_cases.py::test_draws_follow_the_exact_law_and_the_exact_calls[*-oracle]": "50 s",
    "tests/samplers/test_originals.py::test_refimpl_models_the_original[*-oracle]": "20 s",
    "tests/samplers/test_llada2.py::test_the_pipeline_loop_agrees_with_the_exact_law_and_calls[*-oracle]": "15 s",
    "tests/samplers/test_entropy_bound.py::test_the_original_loop_agrees_with_the_exact_law_and_calls[*-oracle]":
        "14 s",
    "tests/engine/test_calls.py::test_expected_calls_agree_with_the_originals_counts[*-oracle]": "8 s",
    "tests/samplers/test_remdm_conf.py::test_the_original_update_agrees_with_the_exact_law_and_calls[*-oracle]": "6 s",
    "tests/samplers/test_llada_options.py::test_each_option_samples_its_exact_law[*-oracle]": "4 s",
    "tests/samplers/test_llada_options.py::test_the_original_loop_agrees_with_the_exact_law_and_calls[*-oracle]": "2 s",
}


def pattern(entry):
    """The compiled node-id pattern of an entry: ``*`` matches anything; brackets and the rest are literal."""
    return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", entry)) + r"\Z")


PATTERNS = [pattern(entry) for entry in SLOW]


def is_slow(nodeid):
    """Whether the test of ``nodeid`` is listed (an xdist group's ``@name`` suffix ignored)."""
    return any(p.match(re.sub(r"@\w+\Z", "", nodeid)) for p in PATTERNS)


def unmatched(nodeids):
    """([is_slow(n) for n in nodeids], the entries whose file is among ``nodeids``' files but match none of them)."""
    bare = [re.sub(r"@\w+\Z", "", n) for n in nodeids]
    files = {n.partition("::")[0] for n in bare}
    hits = [[p.match(n) is not None for p in PATTERNS] for n in bare]
    stale = [entry for k, entry in enumerate(SLOW)
             if entry.partition("::")[0] in files and not any(row[k] for row in hits)]
    return [any(row) for row in hits], stale
