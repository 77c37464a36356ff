//! Checkpoints of a training run in its output folder.
//!
//! - `best.safetensors`: weights with the best validation PSNR so far (tch VarStore).
//! - `last-eK.safetensors` + `last-eK.optim.safetensors` + `state.json`: weights, the
//!   optimiser's state (moments and step count, [`crate::optim`]) and the schedule state after the
//!   last finished epoch `K`, for `--resume`: a resumed run continues exactly as an uninterrupted
//!   one.
//!
//! `state.json` carries the checkpoint format ([`FORMAT`]). Format 1 (no `format` key) held no
//! optimiser state; resuming it is refused with one line rather than silently restarting the
//! moments.
//!
//! Files are written to a temporary name and renamed. The weights and moments of epoch `K` carry
//! `K` in their names and `state.json` (renamed into place last) names the epoch it belongs to,
//! so a crash between the renames leaves the previous epoch's complete triple in use: a state is
//! never paired with the weights of another epoch. The files of earlier epochs are removed only
//! after the new state is in place.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tch::nn::VarStore;

use crate::optim::Optimizer;
use crate::precision::ScalerState;

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
    /// fp16's dynamic loss scale after the epoch (absent at fp32 and bf16), so that a resumed
    /// fp16 run scales its losses as an uninterrupted one would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<ScalerState>,
}

fn format_1() -> u32 {
    1
}

/// Paths of the checkpoint files in `dir`.
pub fn best_path(dir: &Path) -> PathBuf {
    dir.join("best.safetensors")
}

/// Path of the weights after epoch `epoch`.
pub fn last_path(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("last-e{epoch}.safetensors"))
}

/// Path of the optimiser's state after epoch `epoch`.
pub fn optim_path(dir: &Path, epoch: usize) -> PathBuf {
    dir.join(format!("last-e{epoch}.optim.safetensors"))
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

/// Saves the weights and the optimiser's state of epoch `state.epochs_done`, then the schedule
/// state that names them, then removes the files of earlier epochs.
pub fn save_last(
    vs: &VarStore,
    opt: &Optimizer,
    dir: &Path,
    state: &TrainState,
) -> anyhow::Result<()> {
    let epoch = state.epochs_done;
    save_weights(vs, &last_path(dir, epoch))?;
    let optim = optim_path(dir, epoch);
    let tmp = dir.join("last.optim.tmp.safetensors");
    opt.save(&tmp)?;
    std::fs::rename(&tmp, &optim).with_context(|| format!("cannot write {}", optim.display()))?;
    let json = serde_json::to_string_pretty(state)?;
    let tmp = dir.join("state.json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, state_path(dir))
        .with_context(|| format!("cannot write {}", state_path(dir).display()))?;
    remove_stale(dir, epoch)
}

/// Removes `last-eK*` files of epochs other than `keep` (a crash may leave a newer, unnamed one).
fn remove_stale(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let current = [last_path(dir, keep), optim_path(dir, keep)];
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("last-e") && name.ends_with(".safetensors") && !current.contains(&path)
        {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
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
