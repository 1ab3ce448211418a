/// Clear-sky output of a rooftop PV system per kWp, from the sun's position.
///
/// - Sun position: the NOAA "General Solar Position Calculations" (fractional year γ, equation of
///   time and declination as Fourier series after Spencer 1971, true solar time from UTC and
///   longitude, hour angle, zenith), https://gml.noaa.gov/grad/solcalc/solareqns.PDF.
/// - Air mass: Kasten & Young (1989), AM = 1 / (cos Z + 0.50572·(96.07995° − Z)^−1.6364).
/// - Direct beam: Meinel & Meinel (1976), I = 1353 W/m² · 0.7^(AM^0.678); diffuse light 10 % of
///   the beam, isotropic (both as summarised by PVEducation, "Air Mass" and "Calculation of Solar
///   Insolation", https://www.pveducation.org/pvcdrom/properties-of-sunlight/air-mass).
/// - Module plane: tilted 30° and facing the equator; beam incidence
///   cos θ = sin δ·sin(φ ∓ β) + cos δ·cos(φ ∓ β)·cos ω (Duffie & Beckman, Solar Engineering of
///   Thermal Processes, eq. 1.6.7), φ ∓ β toward the equator.
/// - DC/AC losses: performance ratio 0.85 (wiring, inverter, temperature, soiling), so a 1 kWp
///   plant gives 850 W at 1 000 W/m² in the module plane.
///
/// All trigonometry goes through `DMath`, so the output is the same on every platform.
struct SolarModel: Sendable {
    let latitudeRadians: Double
    let longitudeDegrees: Double
    static let tiltDegrees = 30.0
    static let performanceRatio = 0.85
    static let diffuseShare = 0.1

    init(latitude: Double, longitude: Double) {
        latitudeRadians = DMath.radians(latitude)
        longitudeDegrees = longitude
    }

    /// Sun position at a UTC instant.
    struct Position {
        /// cos of the zenith angle (≤ 0: the sun is below the horizon).
        var cosZenith: Double
        /// Declination, radians.
        var declination: Double
        /// Hour angle, radians (0 at solar noon).
        var hourAngle: Double
    }

    func position(atMillis millis: Int64) -> Position {
        let day = Int(floorDivide(millis, CivilDate.millisPerDay))
        let minuteOfDay = Double(millis - Int64(day) * CivilDate.millisPerDay) / 60_000
        let year = CivilDate.date(days: day).year
        let daysInYear = CivilDate.isLeap(year) ? 366.0 : 365.0
        let gamma = 2 * DMath.pi / daysInYear * (Double(CivilDate.dayOfYear(days: day) - 1) + (minuteOfDay / 60 - 12) / 24)
        let (s1, c1) = DMath.sinCos(gamma)
        let (s2, c2) = DMath.sinCos(2 * gamma)
        let (s3, c3) = DMath.sinCos(3 * gamma)
        let equationOfTime = 229.18 * (0.000075 + 0.001868 * c1 - 0.032077 * s1 - 0.014615 * c2 - 0.040849 * s2)
        let declination = 0.006918 - 0.399912 * c1 + 0.070257 * s1 - 0.006758 * c2 + 0.000907 * s2 - 0.002697 * c3 + 0.00148 * s3
        let trueSolarMinutes = minuteOfDay + equationOfTime + 4 * longitudeDegrees
        let hourAngle = DMath.radians(trueSolarMinutes / 4 - 180)
        let (sinLat, cosLat) = DMath.sinCos(latitudeRadians)
        let (sinDec, cosDec) = DMath.sinCos(declination)
        let cosZenith = sinLat * sinDec + cosLat * cosDec * DMath.cos(hourAngle)
        return Position(cosZenith: cosZenith, declination: declination, hourAngle: hourAngle)
    }

    /// Clear-sky AC output per kWp installed, W, at a UTC instant (0 at night).
    func clearSkyWattsPerKWp(atMillis millis: Int64) -> Double {
        let sun = position(atMillis: millis)
        guard sun.cosZenith > 0.001 else { return 0 }
        let zenithDegrees = 90 - Self.degrees(asin: sun.cosZenith)
        let airMass = 1 / (sun.cosZenith + 0.50572 * DMath.pow(96.07995 - zenithDegrees, -1.6364))
        let beam = 1353 * DMath.pow(0.7, DMath.pow(airMass, 0.678))
        let tilt = DMath.radians(Self.tiltDegrees)
        let planeLatitude = latitudeRadians >= 0 ? latitudeRadians - tilt : latitudeRadians + tilt
        let (sinPlane, cosPlane) = DMath.sinCos(planeLatitude)
        let (sinDec, cosDec) = DMath.sinCos(sun.declination)
        let cosIncidence = sinDec * sinPlane + cosDec * cosPlane * DMath.cos(sun.hourAngle)
        let diffuse = Self.diffuseShare * beam * (1 + DMath.cos(tilt)) / 2
        let plane = beam * max(0, cosIncidence) + diffuse
        return plane * Self.performanceRatio
    }

    /// The elevation angle in degrees whose sine is `x` (0 < x ≤ 1), by Newton's method on sin.
    static func degrees(asin x: Double) -> Double {
        var angle = x  // radians; sin(a) ≈ a near 0, and Newton converges on [0, π/2]
        if x > 0.9 { angle = DMath.pi / 2 - (2 * (1 - x)).squareRoot() }
        for _ in 0..<40 {
            let (s, c) = DMath.sinCos(angle)
            guard c > 1e-12 else { break }
            let step = (s - x) / c
            angle -= step
            if abs(step) < 1e-15 { break }
        }
        return angle * (180 / DMath.pi)
    }
}
