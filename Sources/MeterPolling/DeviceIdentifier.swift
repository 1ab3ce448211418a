public import DeviceProfiles
public import ModbusCore

/// A device recognised on a unit id.
public struct IdentifiedDevice: Sendable, Hashable {
    public enum Match: Sendable, Hashable {
        /// Identification registers matched a profile.
        case profile(String)
        /// A SunSpec model chain was found.
        case sunspec(SunSpecMap)
    }

    public var unit: UInt8
    public var match: Match
    public var serialNumber: String?
    /// Manufacturer and model as the device reports them (SunSpec common model), if read.
    public var reportedModel: String?
}

/// Recognises devices by their identification registers and by SunSpec discovery.
public enum DeviceIdentifier {
    /// Everything `catalog` recognises on `unit`. Throws only when the device is silent.
    public static func identify(unit: UInt8, reader: inout some RegisterReader & ~Copyable, catalog: ProfileCatalog) throws(ModbusError) -> [IdentifiedDevice] {
        var found: [IdentifiedDevice] = []
        var answered = false
        var lastSilence: ModbusError?
        for profile in catalog.devices {
            guard let identification = profile.identification, !identification.match.isEmpty else { continue }
            var matches = true
            for rule in identification.match {
                do {
                    let words = try reader.readRegisters(unit: unit, span: rule.register.span)
                    answered = true
                    guard case .integer(let value) = RegisterCodec.decode(words[...], as: rule.register.type, order: rule.register.wordOrder),
                        rule.oneOf.contains(value)
                    else { matches = false; break }
                } catch {
                    if error.deviceAnswered { answered = true } else { lastSilence = error }
                    matches = false
                    break
                }
            }
            if lastSilence != nil && !answered { throw lastSilence! }
            if matches {
                let serial = identification.serialNumber.flatMap { readSerial($0, unit: unit, reader: &reader) }
                found.append(IdentifiedDevice(unit: unit, match: .profile(profile.id), serialNumber: serial))
            }
        }
        do {
            if let map = try SunSpecDiscovery.discover(unit: unit, reader: &reader) {
                var device = IdentifiedDevice(unit: unit, match: .sunspec(map))
                if let common = map.models.first(where: { $0.id == 1 }), let profile = catalog.sunspecModels[1] {
                    let strings = readPoints(profile, base: common.dataAddress, unit: unit, reader: &reader)
                    device.serialNumber = strings["SN"]
                    device.reportedModel = [strings["Mn"], strings["Md"]].compactMap { $0 }.joined(separator: " ")
                }
                found.append(device)
            }
        } catch {
            if !answered && found.isEmpty { throw error }
        }
        return found
    }

    static func readSerial(_ register: DeviceProfile.RegisterReference, unit: UInt8, reader: inout some RegisterReader & ~Copyable) -> String? {
        guard let words = try? reader.readRegisters(unit: unit, span: register.span) else { return nil }
        return decodeSerial(words, register: register)
    }

    static func decodeSerial(_ words: [UInt16], register: DeviceProfile.RegisterReference) -> String? {
        if register.type == .string { return RegisterCodec.decodeString(words[...]) }
        switch RegisterCodec.decode(words[...], as: register.type, order: register.wordOrder) {
        case .integer(let value): return String(value)
        case .unsignedInteger(let value): return String(value)
        case .float: return nil
        }
    }

    static func readPoints(_ profile: DeviceProfile, base: UInt16, unit: UInt8, reader: inout some RegisterReader & ~Copyable) -> [String: String] {
        var result: [String: String] = [:]
        for point in profile.points {
            let span = point.location.span(count: point.length, base: base)
            if let words = try? reader.readRegisters(unit: unit, span: span) {
                let text = RegisterCodec.decodeString(words[...])
                if !text.isEmpty { result[point.name] = text }
            }
        }
        return result
    }
}
