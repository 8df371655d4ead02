//! Keras 3's per-axis output size and padding (src/shape.rs), by one-line tables worked by hand
//! from the formulas in that module's docs.

use wgcnn::shape::{plan_axis, Padding};
use wgcnn::Error;

fn same(input: usize, k: usize, s: usize, d: usize) -> (usize, usize, usize) {
    let p = plan_axis("t", "height", input, k, s, d, Padding::Same).unwrap();
    (p.output, p.pad_before, p.pad_after)
}

#[test]
fn same_padding_is_asymmetric_with_the_extra_cell_after() {
    // (in, k, s, d) -> (out, before, after), worked by hand from the formula in the module docs.
    assert_eq!(same(5, 3, 1, 1), (5, 1, 1));
    assert_eq!(same(5, 2, 1, 1), (5, 0, 1));
    assert_eq!(same(128, 3, 2, 1), (64, 0, 1));
    assert_eq!(same(6, 4, 2, 1), (3, 1, 1));
    assert_eq!(same(7, 4, 2, 1), (4, 1, 2));
    assert_eq!(same(3, 7, 1, 1), (3, 3, 3));
    assert_eq!(same(5, 3, 1, 2), (5, 2, 2));
    assert_eq!(same(10, 1, 3, 1), (4, 0, 0));
}

#[test]
fn valid_output_and_empty_error() {
    let p = plan_axis("t", "width", 95, 2, 1, 1, Padding::Valid).unwrap();
    assert_eq!((p.output, p.pad_before, p.pad_after), (94, 0, 0));
    let p = plan_axis("t", "width", 10, 3, 1, 3, Padding::Valid).unwrap();
    assert_eq!(p.output, 4);
    assert!(matches!(
        plan_axis("t", "width", 2, 3, 1, 1, Padding::Valid),
        Err(Error::EmptyOutput {
            input: 2,
            window: 3,
            ..
        })
    ));
    assert!(matches!(
        plan_axis("t", "width", 2, 3, 0, 1, Padding::Valid),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        plan_axis("t", "width", 4, usize::MAX, 1, 2, Padding::Same),
        Err(Error::Overflow { .. })
    ));
}
