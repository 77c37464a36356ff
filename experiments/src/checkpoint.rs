//! Checkpoints of a training run in its output folder.
//!
//! - `best.safetensors`: weights with the best validation PSNR so far (tch VarStore).
//! - `last.safetensors` + `last.optim.safetensors` + `state.json`: weights, the optimiser's
//!   state (moments and step count, [`crate::optim`]) and the schedule state after the last
//!   finished epoch, for `--resume`: a resumed run continues exactly as an uninterrupted one.
//!
//! `state.json` carries the checkpoint format ([`FORMAT`]). Format 1 (no `format` key) held no
//! optimiser state; resuming it is refused with one line rather than silently restarting the
//! moments.
//!
//! Files are written to a temporary name and renamed, so a crash leaves the previous complete
//! checkpoint in place.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tch::nn::VarStore;

use crate::optim::Optimizer;

/// The checkpoint format this version writes and resumes: 2 = weights, optimiser state and
/// schedule state.
pub const FORMAT: u32 = 2;

/// Schedule state after a finished epoch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Checkpoint format ([`FORMAT`]); states written before it existed read as 1.
    #[serde(default = "format_1")]
    pub format: u32,
    /// Epochs finished.
    pub epochs_done: usize,
    /// Current learning rate.
    pub lr: f64,
    /// Best validation PSNR (dB) and the epoch (1-based) that reached it; 0 before any.
    pub best_val_psnr: f64,
    /// Epoch of the best checkpoint.
    pub best_epoch: usize,
    /// Epochs without improvement, for ReduceLROnPlateau.
    pub lr_bad_epochs: usize,
    /// A fingerprint of the run's configuration; resuming with another one is refused.
    pub config: String,
}

fn format_1() -> u32 {
    1
}

/// Paths of the checkpoint files in `dir`.
pub fn best_path(dir: &Path) -> PathBuf {
    dir.join("best.safetensors")
}

/// Path of the last-epoch weights.
pub fn last_path(dir: &Path) -> PathBuf {
    dir.join("last.safetensors")
}

/// Path of the optimiser's state after the last epoch.
pub fn optim_path(dir: &Path) -> PathBuf {
    dir.join("last.optim.safetensors")
}

/// Path of the schedule state.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Saves `vs` to `path` through a temporary file and a rename.
pub fn save_weights(vs: &VarStore, path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp.safetensors");
    vs.save(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Saves the last weights, the optimiser's state and the schedule state (in this order, so a
/// state always has its weights and moments).
pub fn save_last(
    vs: &VarStore,
    opt: &Optimizer,
    dir: &Path,
    state: &TrainState,
) -> anyhow::Result<()> {
    save_weights(vs, &last_path(dir))?;
    let tmp = dir.join("last.optim.tmp.safetensors");
    opt.save(&tmp)?;
    std::fs::rename(&tmp, optim_path(dir))
        .with_context(|| format!("cannot write {}", optim_path(dir).display()))?;
    let json = serde_json::to_string_pretty(state)?;
    let tmp = dir.join("state.json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, state_path(dir))
        .with_context(|| format!("cannot write {}", state_path(dir).display()))
}

/// Loads the state of an interrupted run, if there is one.
///
/// # Errors
/// An unreadable state, or one of another checkpoint format (one line).
pub fn load_state(dir: &Path) -> anyhow::Result<Option<TrainState>> {
    let path = state_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let state: TrainState = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid state file", path.display()))?;
    anyhow::ensure!(
        state.format == FORMAT,
        "cannot resume: {} is checkpoint format {} and this version resumes format {FORMAT} \
         only (format 1 holds no optimiser state, so its moments would restart); start the run \
         again in a new folder",
        path.display(),
        state.format
    );
    Ok(Some(state))
}
