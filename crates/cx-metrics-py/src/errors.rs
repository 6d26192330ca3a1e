//! Map every `cx_metrics::Error` variant to its exception class in `cx_metrics.exceptions`.
//!
//! The classes are declared once, in Python (`cx_metrics/exceptions.py`), and imported here lazily;
//! the message is the core's message, unchanged.

use cx_metrics::Error;
use pyo3::import_exception;
use pyo3::PyErr;

import_exception!(cx_metrics.exceptions, CxMetricsError);
import_exception!(cx_metrics.exceptions, OutOfRangeError);
import_exception!(cx_metrics.exceptions, NotIntegralError);
import_exception!(cx_metrics.exceptions, NonFiniteError);
import_exception!(cx_metrics.exceptions, MissingValueError);
import_exception!(cx_metrics.exceptions, InvalidWeightError);
import_exception!(cx_metrics.exceptions, LengthMismatchError);
import_exception!(cx_metrics.exceptions, InvalidArgumentError);
import_exception!(cx_metrics.exceptions, IncompatibleError);
import_exception!(cx_metrics.exceptions, UndefinedError);
import_exception!(cx_metrics.exceptions, ConvergenceError);
import_exception!(cx_metrics.exceptions, ColumnError);
import_exception!(cx_metrics.exceptions, CollinearityError);
import_exception!(cx_metrics.exceptions, TooFewRowsError);
import_exception!(cx_metrics.exceptions, IllConditionedError);
import_exception!(cx_metrics.exceptions, SeparationError);
import_exception!(cx_metrics.exceptions, MergeOverflowError);
import_exception!(cx_metrics.exceptions, InvalidStateError);
import_exception!(cx_metrics.exceptions, JourneyError);
import_exception!(cx_metrics.exceptions, OutOfScaleError);

/// The Python exception for a core error, variant by variant.
pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::OutOfRange { .. } => OutOfRangeError::new_err(msg),
        Error::NotIntegral { .. } => NotIntegralError::new_err(msg),
        Error::NonFinite { .. } => NonFiniteError::new_err(msg),
        Error::Missing { .. } => MissingValueError::new_err(msg),
        Error::InvalidWeight { .. } => InvalidWeightError::new_err(msg),
        Error::LengthMismatch { .. } => LengthMismatchError::new_err(msg),
        Error::InvalidArgument { .. } => InvalidArgumentError::new_err(msg),
        Error::Incompatible(_) => IncompatibleError::new_err(msg),
        Error::Undefined(_) => UndefinedError::new_err(msg),
        Error::NoConvergence { .. } => ConvergenceError::new_err(msg),
        Error::UnknownColumn { .. } | Error::BadColumn { .. } => ColumnError::new_err(msg),
        Error::Collinear { .. } => CollinearityError::new_err(msg),
        Error::TooFewRows { .. } => TooFewRowsError::new_err(msg),
        Error::IllConditioned { .. } => IllConditionedError::new_err(msg),
        Error::Separation { .. } => SeparationError::new_err(msg),
        Error::Overflow { .. } => MergeOverflowError::new_err(msg),
        Error::InvalidState { .. } => InvalidStateError::new_err(msg),
        Error::Journey { .. } => JourneyError::new_err(msg),
        Error::OutOfScale { .. } => OutOfScaleError::new_err(msg),
        Error::InvalidModel { .. } => InvalidStateError::new_err(msg),
        // `Error` is non-exhaustive: a variant added later still derives from the base class.
        _ => CxMetricsError::new_err(msg),
    }
}

/// An argument the bindings reject before the core sees it (wrong type or shape).
pub fn invalid_argument(name: &str, message: impl std::fmt::Display) -> PyErr {
    InvalidArgumentError::new_err(format!("invalid {name}: {message}"))
}

/// `.py()` on core results: convert the error with [`to_py`].
pub trait IntoPyResult<T> {
    /// The same result with the error mapped to its Python exception.
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPyResult<T> for cx_metrics::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
