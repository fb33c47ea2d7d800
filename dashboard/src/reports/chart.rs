//! The charts of the reports page: a figure of the day against its comparison series, as
//! inline SVG polylines (no chart library: the page's budget, and the CSP allows no inline
//! style). Missing values (a figure without a denominator) break the line, never draw a zero.

/// The drawing's width in SVG units.
pub const WIDTH: f64 = 600.0;
/// The drawing's height in SVG units.
pub const HEIGHT: f64 = 160.0;

/// The top of the y axis: `fixed` (100 for percentages), else the largest value rounded up to
/// a readable step (1, 2 or 5 times a power of ten); 1 when there is nothing to draw.
pub fn top(series: &[&[Option<f64>]], fixed: Option<f64>) -> f64 {
    if let Some(fixed) = fixed {
        return fixed;
    }
    let max = series
        .iter()
        .flat_map(|s| s.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|step| *step >= max)
        .unwrap_or(10.0 * power)
}

/// The `points` of each unbroken run of `values` (`n` slots across the width), scaled to `top`.
pub fn polylines(values: &[Option<f64>], n: usize, top: f64) -> Vec<String> {
    let step = if n > 1 { WIDTH / (n - 1) as f64 } else { 0.0 };
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => {
                let y = HEIGHT - (v / top).clamp(0.0, 1.0) * HEIGHT;
                current.push(format!("{:.1},{:.1}", i as f64 * step, y));
            }
            None if !current.is_empty() => lines.push(std::mem::take(&mut current).join(" ")),
            None => {}
        }
    }
    if !current.is_empty() {
        // A single point still shows: a zero-length line with round caps (style.css).
        if current.len() == 1 {
            let only = current[0].clone();
            current.push(only);
        }
        lines.push(current.join(" "));
    }
    lines
}

/// The values as `data-values` writes them for tests and screen readers: `1.5,null,3`.
pub fn values_attr(values: &[Option<f64>]) -> String {
    values
        .iter()
        .map(|v| crate::format::raw_f64(*v))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_top_is_a_readable_step() {
        assert_eq!(top(&[&[Some(7.0)], &[Some(3.0)]], None), 10.0);
        assert_eq!(top(&[&[Some(11.0), None]], None), 20.0);
        assert_eq!(top(&[&[Some(0.3)]], None), 0.5);
        assert_eq!(top(&[&[None]], None), 1.0);
        assert_eq!(top(&[&[Some(7.0)]], Some(100.0)), 100.0);
    }

    #[test]
    fn gaps_break_the_line() {
        let lines = polylines(&[Some(0.0), Some(10.0), None, Some(5.0)], 4, 10.0);
        assert_eq!(lines, vec!["0.0,160.0 200.0,0.0", "600.0,80.0 600.0,80.0"]);
        assert!(polylines(&[None, None], 2, 1.0).is_empty());
        assert_eq!(values_attr(&[Some(1.5), None]), "1.5,null");
    }
}
