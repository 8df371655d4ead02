//! Value parsers of the arguments: clap calls them and prints their message as a usage error.

use wgcnn::{Activation, Backend, Padding};

/// "N" (both axes) or "N,M", as Keras takes an int or a tuple.
pub(crate) fn parse_pair(s: &str) -> Result<[usize; 2], String> {
    let parse = |p: &str| {
        p.trim()
            .parse::<usize>()
            .map_err(|_| format!("'{s}' is not N or N,M with non-negative integers"))
    };
    match s.split_once(',') {
        None => parse(s).map(|v| [v, v]),
        Some((a, b)) => Ok([parse(a)?, parse(b)?]),
    }
}

/// "N,H,W,C".
pub(crate) fn parse_shape4(s: &str) -> Result<[usize; 4], String> {
    let dims: Result<Vec<usize>, _> = s.split(',').map(|d| d.trim().parse::<usize>()).collect();
    dims.ok()
        .and_then(|d| <[usize; 4]>::try_from(d).ok())
        .ok_or_else(|| format!("'{s}' is not N,H,W,C (four non-negative integers)"))
}

/// A count that must be at least 1 (`--batch-size`, `--repeat`), said as such rather than as
/// clap's `1..18446744073709551615` range.
pub(crate) fn parse_count<T: std::str::FromStr + From<u8> + PartialOrd>(
    s: &str,
) -> Result<T, String> {
    match s.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        Ok(_) => Err(format!("{s} is too small: give at least 1")),
        Err(_) => Err(format!("'{s}' is not a whole number (give 1 or more)")),
    }
}

pub(crate) fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse()
}

pub(crate) fn parse_padding(s: &str) -> Result<Padding, String> {
    s.parse()
}

pub(crate) fn parse_activation(s: &str) -> Result<Activation, String> {
    s.parse()
}
