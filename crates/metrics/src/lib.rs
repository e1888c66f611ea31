//! neurite-metrics: filled in by its own issue; see `docs/architecture.md` for the plan.
