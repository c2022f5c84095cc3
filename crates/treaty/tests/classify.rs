//! Mine classification: Art. 2 branches (table-driven), CCW Amended Protocol II conditions,
//! definition files, device parsing.
#![allow(clippy::unwrap_used)]

use minewatch_treaty::{
    classify, classify_apii, classify_apmbc, shipped_definitions, Activation, Definition, Delivery,
    DeliveryMode, Device, Mechanism, Target,
};

fn device(target: Target, activation: Activation) -> Device {
    Device {
        name: None,
        target,
        activation,
        anti_handling_device: false,
        self_destruct: None,
        self_deactivation: None,
        delivery: Delivery {
            mode: DeliveryMode::HandEmplaced,
            distance_m: None,
        },
        detectable_iron_equivalent_g: Some(10.0),
        directional: false,
    }
}

fn smart(mut d: Device) -> Device {
    d.self_destruct = Some(Mechanism {
        days: 4.0,
        reliability: 0.99,
    });
    d.self_deactivation = Some(Mechanism {
        days: 90.0,
        reliability: 0.95,
    });
    d
}

fn remote(mut d: Device) -> Device {
    d.delivery = Delivery {
        mode: DeliveryMode::Remote,
        distance_m: Some(15_000.0),
    };
    d
}

#[test]
fn article_2_branches() {
    let claymore = Device {
        directional: true,
        ..device(Target::Person, Activation::Command)
    };
    let claymore_tripwire = Device {
        activation: Activation::Tripwire,
        ..claymore.clone()
    };
    let at_mine_ahd = Device {
        anti_handling_device: true,
        ..device(Target::Vehicle, Activation::Pressure)
    };
    let magnetic_ahd = Device {
        anti_handling_device: true,
        ..device(Target::Vehicle, Activation::Magnetic)
    };
    let scatterable = remote(smart(device(Target::Person, Activation::Tripwire)));
    let pom3 = device(Target::Person, Activation::Seismic);
    let sensor_cued = device(Target::Person, Activation::CommandWithSensorCue);
    let av_tripwire = device(Target::Vehicle, Activation::Tripwire);
    let pressure = device(Target::Person, Activation::Pressure);
    let table: Vec<(&str, Device, bool, &str)> = vec![
        (
            "command-detonated directional mine",
            claymore,
            false,
            "a person decides",
        ),
        (
            "the same with a tripwire",
            claymore_tripwire,
            true,
            "victim-activated",
        ),
        (
            "vehicle mine with an anti-handling device",
            at_mine_ahd,
            false,
            "not an anti-personnel mine merely because",
        ),
        (
            "magnetic vehicle mine with an anti-handling device",
            magnetic_ahd,
            false,
            "merely because",
        ),
        (
            "self-destructing remotely delivered mine",
            scatterable,
            true,
            "still an anti-personnel mine",
        ),
        (
            "seismic fuze (POM-3 type)",
            pom3,
            true,
            "whatever its makers claim",
        ),
        (
            "command with sensor cue",
            sensor_cued,
            false,
            "not victim-activated",
        ),
        (
            "vehicle mine with a tripwire",
            av_tripwire,
            true,
            "whatever the intended target",
        ),
        (
            "pressure-fuzed blast mine",
            pressure,
            true,
            "presence, proximity or contact of a person",
        ),
    ];
    let defs = shipped_definitions().unwrap();
    let apmbc_file = defs.iter().find(|d| d.id == "apmbc").unwrap();
    for (name, dev, expected, phrase) in table {
        let v = classify_apmbc(&dev);
        assert_eq!(v.anti_personnel_mine, expected, "{name}");
        let all: String = v
            .reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join(" | ");
        assert!(all.contains(phrase), "{name}: {all}");
        assert!(v.reasons.iter().all(|r| r.article.starts_with("Art.")));
        assert_eq!(
            apmbc_file.classify(&dev).anti_personnel_mine,
            expected,
            "{name} (apmbc.json)"
        );
    }
}

#[test]
fn apmbc_definition_file_agrees_with_the_built_in_classifier() {
    let defs = shipped_definitions().unwrap();
    let file = defs.iter().find(|d| d.id == "apmbc").unwrap();
    for t in Target::ALL {
        for a in Activation::ALL {
            for ahd in [false, true] {
                for dir in [false, true] {
                    for sd in [false, true] {
                        for mode in DeliveryMode::ALL {
                            let mut dev = device(t, a);
                            dev.anti_handling_device = ahd;
                            dev.directional = dir;
                            if sd {
                                dev = smart(dev);
                            }
                            dev.delivery.mode = mode;
                            assert_eq!(
                                file.classify(&dev).anti_personnel_mine,
                                classify_apmbc(&dev).anti_personnel_mine,
                                "{dev:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn broad_definition_covers_sensor_cued_mines() {
    let defs = shipped_definitions().unwrap();
    let broad = defs.iter().find(|d| d.id == "broad-sensor").unwrap();
    let cued = device(Target::Person, Activation::CommandWithSensorCue);
    assert!(!classify_apmbc(&cued).anti_personnel_mine);
    let v = broad.classify(&cued);
    assert!(v.anti_personnel_mine);
    assert_eq!(v.rule, Some(1));
    assert!(v.reasons[0].text.contains("rule 1 of broad-sensor"));
    assert!(
        !broad
            .classify(&device(Target::Person, Activation::Command))
            .anti_personnel_mine
    );
    assert!(
        broad
            .classify(&smart(device(Target::Person, Activation::Infrared)))
            .anti_personnel_mine
    );
    assert!(
        broad
            .classify(&device(Target::Vehicle, Activation::TiltRod))
            .anti_personnel_mine
    );
    assert!(
        !broad
            .classify(&device(Target::Vehicle, Activation::Magnetic))
            .anti_personnel_mine
    );
}

#[test]
fn apii_detectability_and_self_destruction() {
    // A compliant remotely delivered scatterable mine: lawful under APII, an APM under the MBT.
    let scatterable = remote(smart(device(Target::Person, Activation::Tripwire)));
    let v = classify_apii(&scatterable);
    assert!(v.anti_personnel_mine && v.remotely_delivered);
    assert_eq!(v.lawful, Some(true), "{:?}", v.reasons);
    // Self-destruct after 40 days: prohibited when remotely delivered.
    let mut late = scatterable.clone();
    late.self_destruct = Some(Mechanism {
        days: 40.0,
        reliability: 0.99,
    });
    let v = classify_apii(&late);
    assert_eq!(v.lawful, Some(false));
    assert!(v.reasons.iter().any(|r| r.text.contains("more than 30")));
    // 15% failure to self-destruct.
    let mut unreliable = scatterable.clone();
    unreliable.self_destruct = Some(Mechanism {
        days: 10.0,
        reliability: 0.85,
    });
    assert_eq!(classify_apii(&unreliable).lawful, Some(false));
    // Combined: 5% SD failure x 5% SDA failure = 2.5 in 1,000 still functioning after 120 days.
    let mut weak = scatterable.clone();
    weak.self_destruct = Some(Mechanism {
        days: 10.0,
        reliability: 0.95,
    });
    weak.self_deactivation = Some(Mechanism {
        days: 120.0,
        reliability: 0.95,
    });
    let v = classify_apii(&weak);
    assert_eq!(v.lawful, Some(false));
    assert!(
        v.reasons.iter().any(|r| r.text.contains("2.50 in 1,000")),
        "{:?}",
        v.reasons
    );
    // Exactly at the thresholds: 10% x 1% = 1 in 1,000.
    let mut edge = scatterable.clone();
    edge.self_destruct = Some(Mechanism {
        days: 30.0,
        reliability: 0.9,
    });
    edge.self_deactivation = Some(Mechanism {
        days: 120.0,
        reliability: 0.99,
    });
    assert_eq!(classify_apii(&edge).lawful, Some(true));
    // Undetectable: prohibited; detectability not given: cannot tell.
    let mut plastic = device(Target::Person, Activation::Pressure);
    plastic.detectable_iron_equivalent_g = Some(2.0);
    assert_eq!(classify_apii(&plastic).lawful, Some(false));
    plastic.detectable_iron_equivalent_g = None;
    assert_eq!(classify_apii(&plastic).lawful, None);
    // Hand-emplaced persistent mine: lawful only in marked, monitored, fenced areas.
    let persistent = device(Target::Person, Activation::Pressure);
    let v = classify_apii(&persistent);
    assert_eq!(v.lawful, Some(true));
    assert!(v
        .conditions
        .iter()
        .any(|c| c.contains("perimeter-marked") && c.contains("fencing")));
    // Persistent and remotely delivered: prohibited.
    assert_eq!(
        classify_apii(&remote(persistent.clone())).lawful,
        Some(false)
    );
    // Delivered from under 500 m: not "remotely delivered".
    let mut short = remote(persistent);
    short.delivery.distance_m = Some(300.0);
    let v = classify_apii(&short);
    assert!(!v.remotely_delivered);
    assert_eq!(v.lawful, Some(true));
    // A vehicle mine with a tripwire: not an APM under APII's "primarily designed".
    let av = device(Target::Vehicle, Activation::Tripwire);
    assert!(!classify_apii(&av).anti_personnel_mine);
    assert!(classify_apmbc(&av).anti_personnel_mine);
    // Directional mine with a tripwire, persistent: the 72-hour exception is offered.
    let claymore = Device {
        directional: true,
        ..device(Target::Person, Activation::Tripwire)
    };
    assert!(classify_apii(&claymore)
        .conditions
        .iter()
        .any(|c| c.contains("72 hours")));
}

#[test]
fn device_json_is_checked() {
    let ok = r#"{"target":"person","activation":"seismic","delivery":{"mode":"hand_emplaced"},"detectable_iron_equivalent_g":9}"#;
    let d = Device::from_json(ok).unwrap();
    assert_eq!(d.activation, Activation::Seismic);
    let e = Device::from_json(
        r#"{"target":"person","activation":"seismc","delivery":{"mode":"remote"}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown variant `seismc`"), "{e}");
    let e = Device::from_json(r#"{"target":"person","activation":"seismic","delivery":{"mode":"remote"},"colour":"green"}"#)
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = Device::from_json(
        r#"{"target":"person","activation":"seismic","delivery":{"mode":"remote"},"self_destruct":{"days":4,"reliability":99}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("from 0 to 1"), "{e}");
}

#[test]
fn definition_files_report_clear_errors() {
    let e = Definition::from_json("x.json", "{").unwrap_err();
    assert!(e.to_string().starts_with("definition x.json: "), "{e}");
    let bad_value = r#"{"format":1,"id":"x","title":"t","source":"s","rules":[
        {"when":{"activation":["tripwire","tripwir"]},"anti_personnel_mine":true,"reason":"r"}],
        "otherwise":{"anti_personnel_mine":false,"reason":"o"}}"#;
    let e = Definition::from_json("x.json", bad_value).unwrap_err();
    assert_eq!(e.path, "rules[0].when.activation[1]");
    assert!(
        e.message
            .contains("unknown activation \"tripwir\"; expected one of: pressure"),
        "{e}"
    );
    let bad_test = bad_value.replace("\"activation\"", "\"activaton\"");
    let e = Definition::from_json("x.json", &bad_test).unwrap_err();
    assert_eq!(e.path, "rules[0].when.activaton");
    let bad_cmp = r#"{"format":1,"id":"x","title":"t","source":"s","rules":[
        {"when":{"detectable_iron_equivalent_g":{"atleast":8}},"anti_personnel_mine":true,"reason":"r"}],
        "otherwise":{"anti_personnel_mine":false,"reason":"o"}}"#;
    let e = Definition::from_json("x.json", bad_cmp).unwrap_err();
    assert_eq!(e.path, "rules[0].when.detectable_iron_equivalent_g.atleast");
    let bad_format = bad_cmp.replace("\"format\":1", "\"format\":2");
    assert_eq!(
        Definition::from_json("x.json", &bad_format)
            .unwrap_err()
            .path,
        "format"
    );
    let missing_reason = r#"{"format":1,"id":"x","title":"t","source":"s","rules":[{"anti_personnel_mine":true}],
        "otherwise":{"anti_personnel_mine":false,"reason":"o"}}"#;
    let e = Definition::from_json("x.json", missing_reason).unwrap_err();
    assert_eq!(e.path, "rules[0]");
    assert!(e.message.contains("missing field `reason`"), "{e}");
}

#[test]
fn definition_tests_any_not_and_numbers() {
    let text = r#"{"format":1,"id":"t","title":"t","source":"s","rules":[
        {"when":{"not":{"target":"vehicle"},"any":[{"persistent":true},{"self_destruct_days":{"gt":30}}],
                 "detectable_iron_equivalent_g":{"gte":0,"lt":8}},
         "anti_personnel_mine":true,"reason":"undetectable long-lived anti-personnel mine"}],
        "otherwise":{"anti_personnel_mine":false,"reason":"no"}}"#;
    let def = Definition::from_json("t.json", text).unwrap();
    let mut dev = device(Target::Person, Activation::Pressure);
    dev.detectable_iron_equivalent_g = Some(1.0);
    assert!(def.classify(&dev).anti_personnel_mine);
    dev.detectable_iron_equivalent_g = None;
    assert!(
        !def.classify(&dev).anti_personnel_mine,
        "a number not given never matches"
    );
    dev.detectable_iron_equivalent_g = Some(1.0);
    dev = smart(dev);
    assert!(!def.classify(&dev).anti_personnel_mine);
    dev.self_destruct = Some(Mechanism {
        days: 60.0,
        reliability: 0.9,
    });
    assert!(def.classify(&dev).anti_personnel_mine);
    dev.target = Target::Vehicle;
    assert!(!def.classify(&dev).anti_personnel_mine);
}

#[test]
fn classification_json_shape() {
    let dev = remote(smart(device(Target::Person, Activation::Tripwire)));
    let c = classify(
        &dev,
        &[],
        minewatch_domain::Date::parse("2025-01-01").unwrap(),
        &shipped_definitions().unwrap(),
    );
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["apmbc"]["anti_personnel_mine"], true);
    assert!(v["apmbc"]["reasons"].as_array().unwrap().len() >= 2);
    assert_eq!(v["ccw_apii"]["lawful"], true);
    assert!(v["ccw_apii"]["conditions"].is_array());
    assert!(v["policies"]["verdicts"].is_array());
    assert_eq!(v["definitions"][0]["id"], "apmbc");
    assert_eq!(v["definitions"][1]["id"], "broad-sensor");
}
