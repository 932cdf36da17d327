//! A forecast request checked against the model before any work: what fails the whole request
//! (a 400 naming the field) and what fails one input alone (its output's error).

use fusecast_data::time::{parse_wall_clock, Frequency};

use crate::schema::{ErrorBody, ForecastRequest, TimeSeriesInput, UNIVARIATE};

/// What a request is checked against.
#[derive(Clone, Debug)]
pub struct ModelFacts {
    pub horizon: usize,
    pub levels: Vec<f64>,
    pub frequency: Frequency,
    /// The most inputs one request may hold.
    pub max_inputs: usize,
    /// The known inputs a request may give over the horizon (`inputs[i].future`).
    pub future_inputs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum History {
    /// The history the model was trained with.
    Saved,
    /// `values[0]` at `start` (wall clock seconds).
    Sent { start: i64, values: Vec<f64> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    pub name: String,
    pub history: History,
    /// `(known input, values over the horizon)`.
    pub future: Vec<(String, Vec<f64>)>,
}

#[derive(Clone, Debug)]
pub struct Parsed {
    pub horizon: usize,
    /// Indices into the model's levels, in the requested order.
    pub levels: Vec<usize>,
    pub inputs: Vec<Result<InputSpec, ErrorBody>>,
}

pub fn bad_request(message: impl Into<String>, param: Option<String>, kind: &str) -> ErrorBody {
    ErrorBody {
        code: Some("400".into()),
        message: message.into(),
        param,
        kind: kind.into(),
    }
}

/// KServe's frequency codes and names, to the grid frequencies Fusecast has.
pub fn frequency_of(code: &str) -> Option<Frequency> {
    match code {
        "D" | "d" | "day" | "1d" => Some(Frequency::Daily),
        "H" | "h" | "hour" | "1h" => Some(Frequency::Hourly),
        _ => None,
    }
}

pub fn frequency_code(f: Frequency) -> &'static str {
    match f {
        Frequency::Daily => "D",
        Frequency::Hourly => "H",
    }
}

/// Checks a request: the request-level settings (horizon, quantiles, input count) fail it
/// whole; each input's own problems fail that input alone.
pub fn parse(req: &ForecastRequest, facts: &ModelFacts) -> Result<Parsed, ErrorBody> {
    if req.options.horizon == 0 || req.options.horizon > facts.horizon {
        return Err(bad_request(
            format!(
                "options.horizon is {}; this model forecasts 1 to {} steps",
                req.options.horizon, facts.horizon
            ),
            Some("options.horizon".into()),
            "invalid_horizon",
        ));
    }
    let levels = match &req.options.quantiles {
        None => (0..facts.levels.len()).collect(),
        Some(qs) => qs
            .iter()
            .enumerate()
            .map(|(i, q)| {
                facts
                    .levels
                    .iter()
                    .position(|l| (l - q).abs() < 1e-9)
                    .ok_or_else(|| {
                        bad_request(
                            format!(
                                "options.quantiles[{i}] = {q} is not one of the model's quantiles {:?}",
                                facts.levels
                            ),
                            Some(format!("options.quantiles[{i}]")),
                            "invalid_quantile",
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    if req.inputs.is_empty() {
        return Err(bad_request(
            "inputs is empty",
            Some("inputs".into()),
            "BadRequestError",
        ));
    }
    if req.inputs.len() > facts.max_inputs {
        return Err(bad_request(
            format!(
                "inputs has {} series; one request takes at most {}",
                req.inputs.len(),
                facts.max_inputs
            ),
            Some("inputs".into()),
            "BadRequestError",
        ));
    }
    let inputs = req
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| parse_input(i, input, req.options.horizon, facts))
        .collect();
    Ok(Parsed {
        horizon: req.options.horizon,
        levels,
        inputs,
    })
}

fn parse_input(
    i: usize,
    input: &TimeSeriesInput,
    horizon: usize,
    facts: &ModelFacts,
) -> Result<InputSpec, ErrorBody> {
    let field = |name: &str| format!("inputs[{i}].{name}");
    if let Some(kind) = input.kind.as_deref().filter(|k| *k != UNIVARIATE) {
        return Err(bad_request(
            format!(
                "{} is {kind:?}; this model forecasts {UNIVARIATE:?}",
                field("type")
            ),
            Some(field("type")),
            "unsupported_time_series_type",
        ));
    }
    if let Some(code) = &input.frequency {
        match frequency_of(code) {
            Some(f) if f == facts.frequency => {}
            Some(_) | None => {
                return Err(bad_request(
                    format!(
                        "{} is {code:?}; this model's series are {:?} ({})",
                        field("frequency"),
                        frequency_code(facts.frequency),
                        facts.frequency.label()
                    ),
                    Some(field("frequency")),
                    "invalid_frequency",
                ))
            }
        }
    }
    let history = match &input.series {
        None | Some(serde_json::Value::Null) => {
            if input.start_timestamp.is_some() {
                return Err(bad_request(
                    format!("{} without {}", field("start_timestamp"), field("series")),
                    Some(field("series")),
                    "BadRequestError",
                ));
            }
            History::Saved
        }
        Some(v) => {
            let values = numbers(v, &field("series"))?;
            if values.is_empty() {
                return Err(bad_request(
                    format!("{} is empty", field("series")),
                    Some(field("series")),
                    "BadRequestError",
                ));
            }
            let text = input.start_timestamp.as_deref().ok_or_else(|| {
                bad_request(
                    format!(
                        "{} is needed with {}",
                        field("start_timestamp"),
                        field("series")
                    ),
                    Some(field("start_timestamp")),
                    "BadRequestError",
                )
            })?;
            let start = parse_wall_clock(text).ok_or_else(|| {
                bad_request(
                    format!(
                        "{} = {text:?} is not an ISO 8601 timestamp",
                        field("start_timestamp")
                    ),
                    Some(field("start_timestamp")),
                    "BadRequestError",
                )
            })?;
            if start.rem_euclid(facts.frequency.step_seconds()) != 0 {
                return Err(bad_request(
                    format!(
                        "{} = {text:?} is not on the model's {} grid",
                        field("start_timestamp"),
                        facts.frequency.label()
                    ),
                    Some(field("start_timestamp")),
                    "BadRequestError",
                ));
            }
            History::Sent { start, values }
        }
    };
    let mut future = Vec::new();
    for (name, v) in input.future.iter().flatten() {
        let f = field(&format!("future.{name}"));
        if !facts.future_inputs.contains(name) {
            return Err(bad_request(
                format!(
                    "{f}: the model reads no known input `{name}` (it takes {:?})",
                    facts.future_inputs
                ),
                Some(f),
                "BadRequestError",
            ));
        }
        let values = numbers(v, &f)?;
        if values.len() != horizon {
            return Err(bad_request(
                format!(
                    "{f} has {} values; options.horizon is {horizon}",
                    values.len()
                ),
                Some(f),
                "BadRequestError",
            ));
        }
        future.push((name.clone(), values));
    }
    Ok(InputSpec {
        name: input.name.clone(),
        history,
        future,
    })
}

/// A JSON array of finite numbers; anything else names the element at fault.
fn numbers(v: &serde_json::Value, field: &str) -> Result<Vec<f64>, ErrorBody> {
    let items = v.as_array().ok_or_else(|| {
        bad_request(
            format!("{field} must be an array of numbers"),
            Some(field.to_string()),
            "BadRequestError",
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(j, x)| {
            x.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
                let what = if x.is_null() {
                    "null (missing values cannot be forecast from; fill them first)".to_string()
                } else {
                    format!("{x}, not a number")
                };
                bad_request(
                    format!("{field}[{j}] is {what}"),
                    Some(format!("{field}[{j}]")),
                    "BadRequestError",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ForecastRequest;

    fn facts() -> ModelFacts {
        ModelFacts {
            horizon: 14,
            levels: vec![0.1, 0.5, 0.9],
            frequency: Frequency::Daily,
            max_inputs: 1000,
            future_inputs: vec!["price".into()],
        }
    }

    fn request(json: &str) -> ForecastRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn request_settings_fail_the_request_naming_the_field() {
        let err = parse(
            &request(r#"{"inputs":[{"name":"a"}],"options":{"horizon":15}}"#),
            &facts(),
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("options.horizon"));
        assert_eq!(err.kind, "invalid_horizon");
        let err = parse(
            &request(r#"{"inputs":[{"name":"a"}],"options":{"horizon":3,"quantiles":[0.5,0.25]}}"#),
            &facts(),
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("options.quantiles[1]"));
        let ok = parse(
            &request(r#"{"inputs":[{"name":"a"}],"options":{"horizon":3,"quantiles":[0.9,0.1]}}"#),
            &facts(),
        )
        .unwrap();
        assert_eq!(ok.levels, vec![2, 0]);
    }

    #[test]
    fn each_input_fails_alone_naming_its_element() {
        let p = parse(
            &request(
                r#"{"inputs":[
                    {"name":"a"},
                    {"name":"b","series":[1,2,null],"start_timestamp":"2024-01-01"},
                    {"name":"c","series":[1,2,3],"start_timestamp":"2024-01-01T00:00:00Z","future":{"price":[1,2]}},
                    {"name":"d","series":[1,2,3],"frequency":"H","start_timestamp":"2024-01-01"},
                    {"name":"e","series":[1,2,3],"start_timestamp":"2024-01-01T05:00:00"},
                    {"name":"f","type":"multivariate_time_series","series":[[1,2]]},
                    {"name":"g","series":[1.5,2,3],"frequency":"D","start_timestamp":"2024-01-01","future":{"price":[1,2,3]}},
                    {"name":"h","future":{"promo":[1,2,3]}}
                ],"options":{"horizon":3}}"#,
            ),
            &facts(),
        )
        .unwrap();
        let param = |i: usize| p.inputs[i].as_ref().unwrap_err().param.clone().unwrap();
        assert_eq!(p.inputs[0].as_ref().unwrap().history, History::Saved);
        assert_eq!(param(1), "inputs[1].series[2]");
        assert_eq!(param(2), "inputs[2].future.price");
        assert_eq!(param(3), "inputs[3].frequency");
        assert_eq!(param(4), "inputs[4].start_timestamp");
        assert_eq!(param(5), "inputs[5].type");
        let g = p.inputs[6].as_ref().unwrap();
        assert_eq!(
            g.history,
            History::Sent {
                start: 19_723 * 86_400,
                values: vec![1.5, 2.0, 3.0]
            }
        );
        assert_eq!(g.future, vec![("price".to_string(), vec![1.0, 2.0, 3.0])]);
        assert_eq!(param(7), "inputs[7].future.promo");
    }
}
