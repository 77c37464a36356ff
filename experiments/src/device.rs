//! Choosing the [`tch::Device`] to run on from a user-facing name.

use tch::Device;

/// Why a device name could not be turned into a usable [`Device`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The name is none of `cpu`, `cuda`, `cuda:N`.
    #[error("unknown device {0:?}: expected \"cpu\", \"cuda\" or \"cuda:N\"")]
    Unknown(String),
    /// A CUDA device was asked for but LibTorch sees none.
    #[error(
        "device {requested:?} requested but CUDA is not available: no NVIDIA GPU/driver, or \
         this build links only LibTorch's CPU library (libtorch_cuda is not loaded); use \"cpu\""
    )]
    CudaUnavailable {
        /// The name as given.
        requested: String,
    },
    /// `cuda:N` with `N` at least the number of visible GPUs.
    #[error("device {requested:?} requested but only {count} CUDA device(s) are visible")]
    NoSuchCudaDevice {
        /// The name as given.
        requested: String,
        /// Number of visible CUDA devices.
        count: usize,
    },
}

/// Parses `cpu`, `cuda` (= `cuda:0`) or `cuda:N` (case-insensitive, surrounding
/// blanks ignored) and checks that LibTorch can actually use that device.
pub fn choose(name: &str) -> Result<Device, DeviceError> {
    let count = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
    choose_with_cuda_count(name, count)
}

/// [`choose`] with the number of visible CUDA devices given, so the logic can be
/// tested on any machine.
pub fn choose_with_cuda_count(name: &str, cuda_count: usize) -> Result<Device, DeviceError> {
    let normalized = name.trim().to_ascii_lowercase();
    let index = match normalized.as_str() {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => index,
            _ => return Err(DeviceError::Unknown(name.to_owned())),
        },
    };
    let requested = name.to_owned();
    if cuda_count == 0 {
        Err(DeviceError::CudaUnavailable { requested })
    } else if index >= cuda_count {
        Err(DeviceError::NoSuchCudaDevice {
            requested,
            count: cuda_count,
        })
    } else {
        Ok(Device::Cuda(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available() {
        assert_eq!(choose("cpu"), Ok(Device::Cpu));
        assert_eq!(choose(" CPU "), Ok(Device::Cpu));
        assert_eq!(choose_with_cuda_count("cpu", 0), Ok(Device::Cpu));
    }

    #[test]
    fn cuda_names_map_to_indices() {
        assert_eq!(choose_with_cuda_count("cuda", 2), Ok(Device::Cuda(0)));
        assert_eq!(choose_with_cuda_count("cuda:1", 2), Ok(Device::Cuda(1)));
        assert_eq!(choose_with_cuda_count("CUDA:0", 1), Ok(Device::Cuda(0)));
    }

    #[test]
    fn cuda_without_gpu_is_a_clear_error() {
        let err = choose_with_cuda_count("cuda", 0).unwrap_err();
        assert_eq!(
            err,
            DeviceError::CudaUnavailable {
                requested: "cuda".into()
            }
        );
        assert!(err.to_string().contains("CUDA is not available"), "{err}");
        assert_eq!(
            choose_with_cuda_count("cuda:2", 2),
            Err(DeviceError::NoSuchCudaDevice {
                requested: "cuda:2".into(),
                count: 2
            })
        );
    }

    #[test]
    fn unknown_names_are_rejected() {
        for name in ["", "gpu", "cuda:", "cuda:-1", "cuda:x", "cpu:0"] {
            assert_eq!(
                choose_with_cuda_count(name, 4),
                Err(DeviceError::Unknown(name.into())),
                "{name:?}"
            );
        }
    }

    #[test]
    fn choose_agrees_with_libtorch() {
        // Consistent with what LibTorch reports on this machine, GPU or not.
        match choose("cuda") {
            Ok(device) => {
                assert!(tch::Cuda::is_available());
                assert_eq!(device, Device::Cuda(0));
            }
            Err(err) => {
                assert!(!tch::Cuda::is_available());
                assert!(matches!(err, DeviceError::CudaUnavailable { .. }), "{err}");
            }
        }
    }
}
