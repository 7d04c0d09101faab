"""data_gen: contamination-free problem generators with exact answers.

random_calculation (RandomCalculation, Wu et al. 2025), expression (trees + rendering), check (independent parser and
dataset audit), reward (continuous_reward, Eq. 2), io (JSONL/Parquet), overlap (n-gram contamination audit).
CLI: python -m data_gen --help."""
