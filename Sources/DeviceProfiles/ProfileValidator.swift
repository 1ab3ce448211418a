import GridLedgerCore
import ModbusCore

/// Turns a decoded ``ProfileDocument`` into a ``DeviceProfile``, rejecting anything that would
/// decode wrongly at run time.
struct ProfileValidator {
    let file: String?
    let fieldLines: [Int]

    init(file: String?, fieldLines: [Int]) {
        self.file = file
        self.fieldLines = fieldLines
    }

    private func fail(_ field: String, _ reason: String, line: Int? = nil) -> ProfileError {
        ProfileError(file: file, line: line, field: field, reason: reason)
    }

    mutating func validate(_ document: ProfileDocument) throws(ProfileError) -> DeviceProfile {
        guard let id = document.id, !id.isEmpty else { throw fail("id", "missing") }
        guard id.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }),
            id.first != "-"
        else { throw fail("id", "'\(id)' may contain only lower-case letters, digits and '-'") }
        guard let manufacturer = document.manufacturer, !manufacturer.isEmpty else { throw fail("manufacturer", "missing") }
        guard let model = document.model, !model.isEmpty else { throw fail("model", "missing") }
        guard let kindText = document.kind else { throw fail("kind", "missing (meter, inverter or sunspec-model)") }
        guard let kind = DeviceProfile.Kind(rawValue: kindText) else {
            throw fail("kind", "'\(kindText)' is not one of meter, inverter, sunspec-model")
        }
        guard let sources = document.source, !sources.isEmpty else {
            throw fail("source", "missing: cite the datasheet or specification the registers come from")
        }
        for (index, source) in sources.enumerated() where source.title.isEmpty {
            throw fail("source[\(index)].title", "empty")
        }

        let limits = try validateLimits(document.modbus)
        let defaults = try validateDefaults(document.defaults)

        var sunspec: DeviceProfile.SunSpecModel?
        switch (kind, document.sunspec) {
        case (.sunspecModel, nil):
            throw fail("sunspec", "a sunspec-model profile needs sunspec: {model, length}")
        case (.sunspecModel, let info?):
            guard let modelID = info.model, (1...65534).contains(modelID) else { throw fail("sunspec.model", "must be 1…65534") }
            guard let length = info.length, (1...65535 - 2).contains(length) else { throw fail("sunspec.length", "must be 1…65533") }
            sunspec = .init(id: UInt16(modelID), length: UInt16(length))
        case (_, .some):
            throw fail("sunspec", "only sunspec-model profiles have a sunspec section")
        case (_, nil):
            break
        }
        let relative = kind == .sunspecModel

        var scaleFactors: [DeviceProfile.ScaleFactor] = []
        for (index, factor) in (document.scaleFactors ?? []).enumerated() {
            let path = "scaleFactors[\(index)]"
            guard let name = factor.name, !name.isEmpty else { throw fail("\(path).name", "missing") }
            guard !scaleFactors.contains(where: { $0.name == name }) else { throw fail("\(path).name", "'\(name)' is defined twice") }
            let location = try validateLocation(
                path: path, address: factor.address, offset: factor.offset, function: factor.function,
                defaultFunction: defaults.function, relative: relative, count: 1, sunspec: sunspec)
            scaleFactors.append(.init(name: name, location: location))
        }

        var points: [DeviceProfile.StringPoint] = []
        for (index, point) in (document.points ?? []).enumerated() {
            let path = "points[\(index)]"
            guard let name = point.name, !name.isEmpty else { throw fail("\(path).name", "missing") }
            guard point.type == nil || point.type == "string" else { throw fail("\(path).type", "points are strings") }
            guard let length = point.length, (1...modbusMaxRegistersPerRead).contains(length) else {
                throw fail("\(path).length", "must be 1…\(modbusMaxRegistersPerRead) registers")
            }
            let location = try validateLocation(
                path: path, address: point.address, offset: point.offset, function: point.function,
                defaultFunction: defaults.function, relative: relative, count: length, sunspec: sunspec)
            points.append(.init(name: name, location: location, length: length))
        }

        var fields: [DeviceProfile.Field] = []
        for (index, entry) in (document.fields ?? []).enumerated() {
            fields.append(try validateField(entry, index: index, defaults: defaults, relative: relative, sunspec: sunspec, scaleFactors: scaleFactors))
        }
        if fields.isEmpty && kind != .sunspecModel { throw fail("fields", "a device profile needs at least one field") }
        try checkDuplicatesAndOverlaps(fields: fields, scaleFactors: scaleFactors, points: points)

        var identification: DeviceProfile.Identification?
        if let ident = document.identification {
            let serial = try ident.serialNumber.map { r throws(ProfileError) in
                try validateRegister(r, path: "identification.serialNumber", defaults: defaults)
            }
            var rules: [DeviceProfile.MatchRule] = []
            for (index, rule) in (ident.match ?? []).enumerated() {
                let path = "identification.match[\(index)]"
                let register = try validateRegister(rule, path: path, defaults: defaults)
                guard let values = rule.oneOf, !values.isEmpty else { throw fail("\(path).oneOf", "list the accepted values") }
                guard register.type != .string, register.type != .float32 else {
                    throw fail("\(path).type", "match rules compare integers")
                }
                rules.append(.init(register: register, oneOf: values))
            }
            identification = .init(serialNumber: serial, match: rules)
        }

        for span in limits.unreadable {
            for field in fields where field.location.span(count: field.registerCount, base: 0).overlaps(span) && !relative {
                throw fail("modbus.unreadable", "range \(span) contains the register of \(field.quantity.rawValue)")
            }
        }

        return DeviceProfile(
            id: id, manufacturer: manufacturer, model: model, kind: kind, description: document.description,
            sources: sources, limits: limits, identification: identification, scaleFactors: scaleFactors,
            sunspec: sunspec, points: points, fields: fields)
    }

    struct Defaults {
        var function: RegisterFunction?
        var type: RegisterType?
        var wordOrder: WordOrder
    }

    private func validateDefaults(_ defaults: ProfileDocument.Defaults?) throws(ProfileError) -> Defaults {
        Defaults(
            function: try defaults?.function.map { f throws(ProfileError) in try parseFunction(f, path: "defaults.function") },
            type: try defaults?.type.map { t throws(ProfileError) in try parseType(t, path: "defaults.type") },
            wordOrder: try defaults?.wordOrder.map { w throws(ProfileError) in try parseWordOrder(w, path: "defaults.wordOrder") } ?? .highFirst)
    }

    private func validateLimits(_ modbus: ProfileDocument.Modbus?) throws(ProfileError) -> DeviceProfile.Limits {
        let maxPerRead = modbus?.maxRegistersPerRead ?? modbusMaxRegistersPerRead
        guard (1...modbusMaxRegistersPerRead).contains(maxPerRead) else {
            throw fail("modbus.maxRegistersPerRead", "must be 1…\(modbusMaxRegistersPerRead) (the Modbus limit)")
        }
        let gapLimit = modbus?.gapLimit ?? 10
        guard (0...modbusMaxRegistersPerRead).contains(gapLimit) else { throw fail("modbus.gapLimit", "must be 0…125") }
        var unreadable: [RegisterSpan] = []
        for (index, range) in (modbus?.unreadable ?? []).enumerated() {
            let path = "modbus.unreadable[\(index)]"
            guard let functionText = range.function else { throw fail("\(path).function", "missing") }
            let function = try parseFunction(functionText, path: "\(path).function")
            guard let from = range.from, let to = range.to, (0...0xFFFF).contains(from), (from...0xFFFF).contains(to) else {
                throw fail(path, "needs from ≤ to within 0…65535")
            }
            unreadable.append(RegisterSpan(function, address: UInt16(from), count: UInt16(clamping: to - from + 1)))
        }
        return .init(maxRegistersPerRead: maxPerRead, gapLimit: gapLimit, unreadable: unreadable)
    }

    private func validateLocation(
        path: String, address: Int?, offset: Int?, function: String?, defaultFunction: RegisterFunction?,
        relative: Bool, count: Int, sunspec: DeviceProfile.SunSpecModel?
    ) throws(ProfileError) -> DeviceProfile.Location {
        let position: Int
        if relative {
            guard address == nil else { throw fail("\(path).address", "SunSpec model fields use offset, not address") }
            guard let offset else { throw fail("\(path).offset", "missing") }
            guard let sunspec, offset >= 0, offset + count <= Int(sunspec.length) else {
                throw fail("\(path).offset", "\(offset) (+\(count) registers) lies outside the model's \(sunspec?.length ?? 0) registers")
            }
            position = offset
        } else {
            guard offset == nil else { throw fail("\(path).offset", "device fields use address, not offset") }
            guard let address else { throw fail("\(path).address", "missing") }
            guard address >= 0, address + count <= 0x10000 else { throw fail("\(path).address", "\(address) is outside 0…65535") }
            position = address
        }
        let resolvedFunction: RegisterFunction
        if let function {
            resolvedFunction = try parseFunction(function, path: "\(path).function")
        } else if let defaultFunction {
            resolvedFunction = defaultFunction
        } else if relative {
            resolvedFunction = .holding  // SunSpec maps live in holding registers
        } else {
            throw fail("\(path).function", "missing (input or holding), and no defaults.function")
        }
        return .init(function: resolvedFunction, address: UInt16(position))
    }

    private func validateRegister(_ register: ProfileDocument.Register, path: String, defaults: Defaults) throws(ProfileError) -> DeviceProfile.RegisterReference {
        guard let functionText = register.function ?? defaults.function?.rawValue else { throw fail("\(path).function", "missing") }
        let function = try parseFunction(functionText, path: "\(path).function")
        guard let address = register.address, (0...0xFFFF).contains(address) else { throw fail("\(path).address", "missing or outside 0…65535") }
        guard let typeText = register.type else { throw fail("\(path).type", "missing") }
        let type = try parseType(typeText, path: "\(path).type")
        let count: Int
        if type == .string {
            guard let length = register.length, (1...modbusMaxRegistersPerRead).contains(length) else {
                throw fail("\(path).length", "a string needs its length in registers (1…125)")
            }
            count = length
        } else {
            count = type.registerCount ?? 1
        }
        let order = try register.wordOrder.map { w throws(ProfileError) in try parseWordOrder(w, path: "\(path).wordOrder") } ?? defaults.wordOrder
        return .init(function: function, address: UInt16(address), type: type, wordOrder: order, count: count)
    }

    private func validateField(
        _ entry: ProfileDocument.Field, index: Int, defaults: Defaults, relative: Bool,
        sunspec: DeviceProfile.SunSpecModel?, scaleFactors: [DeviceProfile.ScaleFactor]
    ) throws(ProfileError) -> DeviceProfile.Field {
        let line = index < fieldLines.count ? fieldLines[index] : nil
        var path = "fields[\(index)]"
        guard let quantityText = entry.quantity else { throw fail("\(path).quantity", "missing", line: line) }
        guard let quantity = Quantity(rawValue: quantityText) else {
            throw fail("\(path).quantity", "'\(quantityText)' is not in the vocabulary (docs/PROFILES.md)", line: line)
        }
        path += " (\(quantityText))"
        guard let typeText = entry.type ?? defaults.type?.rawValue else { throw fail("\(path).type", "missing, and no defaults.type", line: line) }
        let type = try parseType(typeText, path: "\(path).type", line: line)
        guard type != .string, type != .sunssf else { throw fail("\(path).type", "\(type) cannot hold a measured value", line: line) }
        let order = try entry.wordOrder.map { w throws(ProfileError) in try parseWordOrder(w, path: "\(path).wordOrder", line: line) } ?? defaults.wordOrder
        let location: DeviceProfile.Location
        do {
            location = try validateLocation(
                path: path, address: entry.address, offset: entry.offset, function: entry.function,
                defaultFunction: defaults.function, relative: relative, count: type.registerCount ?? 1, sunspec: sunspec)
        } catch {
            throw ProfileError(file: file, line: line, field: error.field, reason: error.reason)
        }
        guard let unitText = entry.unit else { throw fail("\(path).unit", "missing (the unit the device reports in)", line: line) }
        guard let unit = DeviceUnit(rawValue: unitText) else {
            let known = DeviceUnit.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("\(path).unit", "'\(unitText)' is not a known unit (\(known))", line: line)
        }
        guard unit.canonical.unit == quantity.unit else {
            throw fail("\(path).unit", "'\(unitText)' does not measure \(quantity.rawValue) (\(quantity.unit.rawValue))", line: line)
        }
        var scaleExponent: Int8 = 0
        if let scale = entry.scale {
            guard let value = ScaledValue(decimalString: scale.text)?.normalized, value.mantissa == 1, (-9...9).contains(value.exponent) else {
                throw fail("\(path).scale", "'\(scale.text)' must be a power of ten between 1e-9 and 1e9, e.g. 0.01 or 1000", line: line)
            }
            scaleExponent = value.exponent
        }
        if let name = entry.scaleFactor, !scaleFactors.contains(where: { $0.name == name }) {
            throw fail("\(path).scaleFactor", "'\(name)' is not defined in scaleFactors", line: line)
        }
        var markers = (entry.notImplemented ?? []).map { UInt64(bitPattern: $0) }
        if relative, let marker = type.sunSpecNotImplemented { markers.append(marker) }
        return .init(
            quantity: quantity, location: location, type: type, wordOrder: order, deviceUnit: unit,
            scaleExponent: scaleExponent, scaleFactor: entry.scaleFactor, invert: entry.invert ?? false,
            notImplemented: markers)
    }

    private func checkDuplicatesAndOverlaps(
        fields: [DeviceProfile.Field], scaleFactors: [DeviceProfile.ScaleFactor], points: [DeviceProfile.StringPoint]
    ) throws(ProfileError) {
        var seen: Set<Quantity> = []
        for (index, field) in fields.enumerated() where !seen.insert(field.quantity).inserted {
            throw fail("fields[\(index)] (\(field.quantity.rawValue))", "quantity appears twice", line: fieldLines[safe: index])
        }
        var named: [(String, RegisterSpan, Int?)] = fields.enumerated().map {
            ("fields[\($0.offset)] (\($0.element.quantity.rawValue))", $0.element.location.span(count: $0.element.registerCount, base: 0), fieldLines[safe: $0.offset])
        }
        named += scaleFactors.map { ("scaleFactors \($0.name)", $0.location.span(count: 1, base: 0), nil) }
        named += points.map { ("points \($0.name)", $0.location.span(count: $0.length, base: 0), nil) }
        for i in named.indices {
            for j in named.indices where j > i && named[i].1.overlaps(named[j].1) {
                throw fail(named[j].0, "registers \(named[j].1) overlap \(named[i].0) at \(named[i].1)", line: named[j].2)
            }
        }
    }

    private func parseFunction(_ text: String, path: String, line: Int? = nil) throws(ProfileError) -> RegisterFunction {
        guard let function = RegisterFunction(rawValue: text) else { throw fail(path, "'\(text)' is not input or holding", line: line) }
        return function
    }

    private func parseType(_ text: String, path: String, line: Int? = nil) throws(ProfileError) -> RegisterType {
        guard let type = RegisterType(rawValue: text) else {
            throw fail(path, "'\(text)' is not one of \(RegisterType.allCases.map(\.rawValue).joined(separator: ", "))", line: line)
        }
        return type
    }

    private func parseWordOrder(_ text: String, path: String, line: Int? = nil) throws(ProfileError) -> WordOrder {
        guard let order = WordOrder(rawValue: text) else { throw fail(path, "'\(text)' is not high-first or low-first", line: line) }
        return order
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
