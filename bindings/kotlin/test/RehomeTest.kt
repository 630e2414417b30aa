// The Kotlin bindings' test program: login with MFA (codes computed here with javax.crypto),
// permissions, inventory, errors, and the suspend surface. Expected values are written by
// hand from the contract. Prints one line per check, then "N passed, N failed", and exits
// non-zero when anything failed.
package org.rehome.test

import java.nio.ByteBuffer
import java.time.Instant
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.rehome.BatchOp
import org.rehome.BatchOperation
import org.rehome.Caller
import org.rehome.DeviceStatus
import org.rehome.LoginOutcome
import org.rehome.MfaCode
import org.rehome.Model
import org.rehome.OpenOptions
import org.rehome.Permission
import org.rehome.Rehome
import org.rehome.RehomeBlocking
import org.rehome.RehomeException
import org.rehome.ScanMatch
import org.rehome.Scanned

private var passed = 0
private var failed = 0

private fun check(name: String, ok: Boolean, detail: () -> String = { "" }) {
    if (ok) {
        passed++
        println("ok   $name")
    } else {
        failed++
        println("FAIL $name ${detail()}")
    }
}

private fun <T> checkEq(name: String, actual: T, expected: T) =
    check(name, actual == expected) { "expected <$expected>, got <$actual>" }

/** Runs [block] and checks that it throws exactly [E]; answers the exception. */
private inline fun <reified E : RehomeException> checkThrows(name: String, block: () -> Unit): E? {
    try {
        block()
    } catch (e: RehomeException) {
        check(name, e is E) { "threw ${e::class.simpleName}: ${e.message}" }
        return e as? E
    }
    check(name, false) { "threw nothing" }
    return null
}

/** RFC 4648 base32 (the TOTP secret's encoding), decoded here rather than by rehome. */
private fun base32Decode(text: String): ByteArray {
    val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    val out = java.io.ByteArrayOutputStream()
    var buffer = 0
    var bits = 0
    for (c in text.uppercase().trimEnd('=')) {
        val v = alphabet.indexOf(c)
        require(v >= 0) { "not base32: $c" }
        buffer = (buffer shl 5) or v
        bits += 5
        if (bits >= 8) {
            out.write((buffer shr (bits - 8)) and 0xFF)
            bits -= 8
        }
    }
    return out.toByteArray()
}

/** RFC 6238 codes: HMAC-SHA1, 6 digits, 30 s steps, each later than the last one used. */
private class Totp(secret: String) {
    private val key = base32Decode(secret)
    private var lastStep: Long? = null

    fun codeAt(step: Long): String {
        val mac = Mac.getInstance("HmacSHA1")
        mac.init(SecretKeySpec(key, "HmacSHA1"))
        val h = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array())
        val o = h[h.size - 1].toInt() and 0x0F
        val v = ((h[o].toInt() and 0x7F) shl 24) or ((h[o + 1].toInt() and 0xFF) shl 16) or
            ((h[o + 2].toInt() and 0xFF) shl 8) or (h[o + 3].toInt() and 0xFF)
        return "%06d".format(v % 1_000_000)
    }

    fun nextCode(): String {
        val now = Instant.now().epochSecond / 30
        val step = lastStep?.let { maxOf(it + 1, now - 1) } ?: (now - 1)
        require(step <= now + 1) { "more codes than the accepted window holds" }
        lastStep = step
        return codeAt(step)
    }
}

private const val PASSWORD = "correct horse battery"

fun main() {
    // RFC 6238 appendix B (SHA-1): T = 59 s gives 94287082, whose last six digits are the code.
    val rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // base32 of "12345678901234567890"
    checkEq("totp helper matches RFC 6238", Totp(rfcSecret).codeAt(59L / 30), "287082")

    val store = RehomeBlocking.open("sqlite::memory:", OpenOptions(fastPasswordHashing = true))
    val system = Caller.system()

    // ------------------------------------------------------------ accounts and permissions
    store.createRole(system, """{"name": "intake", "permissions": ["readDevices", "createDevices", "scanDevices"]}""")
    val ada = store.createUser(
        system,
        """{"username": "ada", "email": "ada@example.org", "password": "$PASSWORD", "role": "intake", "permissions": ["viewAuditLog"]}""",
    )
    checkEq(
        "effective permissions are the role's plus the grants",
        ada.effectivePermissions,
        listOf(Permission.READ_DEVICES, Permission.CREATE_DEVICES, Permission.SCAN_DEVICES, Permission.VIEW_AUDIT_LOG),
    )

    val first = store.signIn("ada", PASSWORD)
    checkEq("sign-in without MFA gives ada's caller", first.username(), "ada")
    checkEq("the caller carries its token", first.accessToken()?.isNotEmpty(), true)
    check("ada may create devices", first.hasPermission(Permission.CREATE_DEVICES))
    check("ada may not edit devices", !first.hasPermission(Permission.EDIT_DEVICES))

    // MFA on: setup, confirm with a code computed here.
    val setup = store.totpSetup(first)
    check("setup gives an otpauth URI", setup.otpauthUri.startsWith("otpauth://totp/"))
    val totp = Totp(setup.secret)
    val recovery = store.totpConfirm(first, totp.nextCode())
    checkEq("ten recovery codes", recovery.toSet().size, 10)

    // Two-step login.
    when (val outcome = store.login("ada", PASSWORD, "198.51.100.7")) {
        is LoginOutcome.MfaRequired -> {
            checkEq("MFA methods", outcome.methods, listOf("totp", "recovery_code"))
            checkThrows<RehomeException.AuthenticationFailed>("a wrong code is refused") {
                store.verifyMfa(outcome.mfaToken, MfaCode.Totp(totp.codeAt(1)))
            }
            val grant = store.verifyMfa(outcome.mfaToken, MfaCode.Totp(totp.nextCode()))
            checkEq("MFA login gives ada's session", grant.username, "ada")
            val caller = store.authenticate(grant.accessToken)
            checkEq("the token authenticates ada", caller.userId(), ada.id)
            check("me() says MFA is on", store.me(caller).mfaEnabled)
        }
        is LoginOutcome.Session -> check("login with MFA on asks for a code", false)
    }
    val mfa = checkThrows<RehomeException.MfaRequired>("sign-in without a code needs one") {
        store.signIn("ada", PASSWORD)
    }
    check("the MfaRequired error carries a token", mfa?.mfaToken?.isNotEmpty() == true)
    val session = store.signIn("ada", PASSWORD, MfaCode.Recovery(recovery[0]))
    checkEq("a recovery code signs in", session.username(), "ada")
    checkThrows<RehomeException.AuthenticationFailed>("a used recovery code is refused") {
        store.signIn("ada", PASSWORD, MfaCode.Recovery(recovery[0]))
    }
    checkThrows<RehomeException.AuthenticationFailed>("a wrong password is refused") {
        store.signIn("ada", "not the password")
    }

    // ------------------------------------------------------------ inventory
    val depot = store.createLocation(system, """{"name": "Depot", "type": "Warehouse", "address": "1 Main St"}""")
    val school = store.createLocation(system, """{"name": "School", "address": "3 High St"}""")
    val device = store.createDevice(
        session,
        """{"type": "Laptop", "make": "Dell", "model": "Latitude 5490", "serial_number": "SN-0001",
            "mac_id": "AA-BB-CC-DD-EE-FF", "start_location": ${depot.locationId}}""",
    )
    checkEq("a new device is received", device.status, DeviceStatus.RECEIVED)
    checkEq("the MAC address is normalised", device.macId, "aa:bb:cc:dd:ee:ff")
    checkEq("created_by is the caller", device.createdBy, ada.id)
    checkEq("lookup by MAC finds it", store.lookupDevice(session, macId = "aabb.ccdd.eeff").deviceId, device.deviceId)
    val byLabel = store.scan(session, "https://rehome.example.org/devices/${device.deviceId}")
    checkEq(
        "a label's address names the device",
        (byLabel as? Scanned.Device)?.let { it.matched to it.device.deviceId },
        ScanMatch.LABEL to device.deviceId,
    )
    checkEq(
        "an unknown serial is handed to intake",
        store.scan(session, " NEW-7 "),
        Scanned.Unknown(serialNumber = "NEW-7", macId = null, imei = null),
    )
    val phone = store.createDevice(
        system,
        """{"type": "Smartphone", "make": "Fairphone", "model": "4", "serial_number": "FP4-001",
            "imei": "49 015420 323751 8"}""",
    )
    checkEq("the IMEI is kept as its 15 digits", phone.imei, "490154203237518")
    checkEq("a new device has evidence to come", phone.noEvidenceRecorded, false)
    val byImei = store.scan(session, "490154203237518")
    checkEq(
        "a phone's IMEI names it",
        (byImei as? Scanned.Device)?.let { it.matched to it.device.deviceId },
        ScanMatch.IMEI to phone.deviceId,
    )
    val badImei = checkThrows<RehomeException.Validation>("an IMEI with a wrong check digit is invalid") {
        store.createDevice(system, """{"type": "Phone", "make": "X", "model": "Y", "serial_number": "FP4-9", "imei": "490154203237519"}""")
    }
    checkEq("the error names the imei", badImei?.fields?.keys, setOf("imei"))
    val summary = store.inventorySummary(session, date = "2026-03-04")
    checkEq("the summary's last week starts on Monday", summary.weeks.last().weekStart, "2026-03-02")
    checkEq("eight weeks", summary.weeks.size, 8)
    checkThrows<RehomeException.PermissionDenied>("ada may not move a device") {
        store.updateDevice(session, device.deviceId, """{"status": "wiped"}""")
    }
    checkThrows<RehomeException.PermissionDenied>("anonymous may not list devices") {
        store.listDevices(Caller.anonymous())
    }
    val dup = checkThrows<RehomeException.Conflict>("a taken serial number is a conflict") {
        store.createDevice(system, """{"type": "Phone", "make": "X", "model": "Y", "serial_number": "SN-0001"}""")
    }
    checkEq("the conflict names the field", dup?.fields?.keys, setOf("serial_number"))
    val invalid = checkThrows<RehomeException.Validation>("a device body without make is invalid") {
        store.createDevice(system, """{"type": "Phone", "model": "Y", "serial_number": "SN-0002"}""")
    }
    checkEq("the validation error names the field", invalid?.fields?.keys, setOf("make"))
    store.createUser(
        system,
        """{"username": "tech", "email": "tech@example.org", "password": "$PASSWORD", "permissions": ["readDevices", "editDevices"]}""",
    )
    val tech = store.signIn("tech", PASSWORD)
    checkThrows<RehomeException.Validation>("nothing gets past wiped without being wiped") {
        store.updateDevice(tech, device.deviceId, """{"status": "refurbished"}""")
    }
    val next = store.deviceStatuses(tech, device.deviceId).associate { it.status to it.reason }
    checkEq(
        "refurbished is blocked until the device is wiped",
        next[DeviceStatus.REFURBISHED],
        "Not wiped yet: a device must be wiped before it can be refurbished.",
    )
    checkEq("wiped is allowed", next[DeviceStatus.WIPED], null)
    val wiped = store.updateDevice(tech, device.deviceId, """{"status": "wiped"}""")
    checkEq("wiping is version 2", wiped.version, 2uL)
    val stale = checkThrows<RehomeException.PreconditionFailed>("a stale if_match is refused") {
        store.updateDevice(tech, device.deviceId, """{"notes": "x"}""", ifMatch = 1uL)
    }
    checkEq("the precondition error gives the current version", stale?.currentVersion, 2uL)

    val shipment = store.createShipment(system, """{"date_shipped": "2026-03-01", "destination": ${school.locationId}}""")
    val shipped = store.updateDevice(
        tech, device.deviceId,
        """{"status": "shipped", "end_location": ${school.locationId}, "shipping_infos": [${shipment.shippingId}]}""",
    )
    checkEq("the device is shipped", shipped.status, DeviceStatus.SHIPPED)
    checkEq("it travelled with the shipment", shipped.shippingInfos, listOf(shipment.shippingId))

    store.generateMockData(system, org.rehome.MockRequest(locations = 2u, donors = 3u, devices = 10u, shipments = 1u, seed = 7uL))
    val dells = store.listDevices(session, mapOf("make" to "Dell", "ordering" to "serial_number", "page_size" to "100"))
    check("Dell filter returns only Dells", dells.results.all { it.make == "Dell" })
    check("ordering by serial number", dells.results.map { it.serialNumber } == dells.results.map { it.serialNumber }.sorted())
    // The laptop, the Fairphone taken in by its IMEI, and ten mock devices.
    checkEq("twelve devices in all", store.listDevices(session).count, 12uL)

    val results = store.batch(
        system,
        listOf(
            BatchOperation(BatchOp.CREATE, Model.DONOR, null, """{"name": "Bob", "email": "bob@example.org"}"""),
            BatchOperation(BatchOp.UPDATE, Model.LOCATION, depot.locationId.toString(), """{"city": "Leeds"}"""),
        ),
    )
    checkEq("a batch answers each operation", results.map { it.op }, listOf(BatchOp.CREATE, BatchOp.UPDATE))
    val rejected = checkThrows<RehomeException.BatchRejected>("a bad batch is rejected whole") {
        store.batch(system, listOf(BatchOperation(BatchOp.DELETE, Model.DONOR, "99999", null)))
    }
    checkEq("the rejection points at the operation", rejected?.errors?.map { it.index }, listOf(0uL))

    val audit = store.listAudit(session, mapOf("action" to "device.create", "actor" to ada.id.toString()))
    checkEq("the audit log has ada's device", audit.results.map { it.objectId }, listOf(device.deviceId))
    val history = store.deviceHistory(tech, device.deviceId)
    checkEq(
        "the device's history, newest first, for a readDevices holder",
        history.results.map { it.action },
        listOf("device.update", "device.update", "device.create"),
    )
    checkThrows<RehomeException.NotFound>("an unknown device has no history") {
        store.deviceHistory(tech, "00000000-0000-0000-0000-000000000000")
    }

    // ------------------------------------------------------------ coordinator resets (ada's sessions end)
    val coordinator = store.createUser(
        system,
        """{"username": "coord", "email": "coord@example.org", "password": "$PASSWORD", "permissions": ["manageUsers", "readDevices", "createDevices", "scanDevices", "viewAuditLog"]}""",
    )
    val coord = store.signIn("coord", PASSWORD)
    checkThrows<RehomeException.Validation>("a coordinator does not reset itself") {
        store.resetPassword(coord, coordinator.id)
    }
    store.resetTwoStep(coord, ada.id)
    checkEq("ada's two-step login is off after the reset", store.getUser(coord, ada.id).mfaEnabled, false)
    val temporary = store.resetPassword(coord, ada.id)
    checkEq("the temporary password is 4 groups of 4", temporary.split("-").map { it.length }, listOf(4, 4, 4, 4))
    checkEq("ada must change her password", store.getUser(coord, ada.id).mustChangePassword, true)
    val pending = store.signIn("ada", temporary)
    checkThrows<RehomeException.PermissionDenied>("nothing but the change until then") {
        store.listDevices(pending)
    }
    store.changePassword(pending, temporary, PASSWORD)
    checkEq("the change clears the flag", store.me(pending).mustChangePassword, false)

    // ------------------------------------------------------------ the suspend surface
    runBlocking {
        val async: Rehome = Rehome.open("sqlite::memory:", OpenOptions(fastPasswordHashing = true))
        (1..10).map { i ->
            async { async.createDonor(system, """{"name": "D$i", "email": "d$i@example.org"}""") }
        }.awaitAll()
        checkEq("ten concurrent suspend calls", async.listDonors(system).count, 10uL)
        try {
            async.getDonor(system, 4242)
            check("a missing donor is NotFound", false)
        } catch (e: RehomeException.NotFound) {
            check("a missing donor is NotFound", true)
        }
        checkEq("the blocking view of the async handle", async.blocking().listDonors(system).count, 10uL)
    }

    store.logout(session)
    checkThrows<RehomeException.InvalidToken>("a token is dead after logout") {
        store.authenticate(session.accessToken()!!)
    }

    // ------------------------------------------------------------ a store that cannot take calls now
    fullDiskIsUnavailable(system)

    println("kotlin: $passed passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}

/** Mounts a 4 MiB tmpfs (needs root); null, after saying why, when that is not possible. */
private fun mountTmpfs(): java.io.File? {
    val dir = java.nio.file.Files.createTempDirectory("rehome-kotlin-full").toFile()
    val mount = try {
        ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir.path)
            .redirectErrorStream(true)
            .start()
    } catch (e: java.io.IOException) {
        println("skip a full disk is Unavailable: cannot run mount: ${e.message}")
        dir.delete()
        return null
    }
    val output = mount.inputStream.bufferedReader().readText().trim()
    if (mount.waitFor() != 0) {
        println("skip a full disk is Unavailable: cannot mount a tmpfs (needs root): $output")
        dir.delete()
        return null
    }
    return dir
}

/** Fills the file system under [dir] to its last byte. */
private fun fill(dir: java.io.File) {
    java.io.FileOutputStream(java.io.File(dir, "filler")).use { out ->
        for (size in intArrayOf(65536, 4096, 1)) {
            val chunk = ByteArray(size)
            try {
                while (true) out.write(chunk)
            } catch (e: java.io.IOException) {
                // Full at this granularity; try a smaller one.
            }
        }
    }
}

/**
 * A full disk makes writes fail with the retryable RehomeException.Unavailable (HTTP's 503),
 * never Backend; reads go on, and once there is room the same write succeeds.
 */
private fun fullDiskIsUnavailable(system: Caller) {
    val dir = mountTmpfs() ?: return
    try {
        val store = RehomeBlocking.open("sqlite://${dir.path}/rehome.db", OpenOptions(fastPasswordHashing = true))
        val donor = store.createDonor(system, """{"name": "Ada", "email": "ada@example.org"}""")
        fill(dir)
        val notes = "n".repeat(9000)
        fun device(serial: String) =
            """{"type": "Laptop", "make": "Dell", "model": "Latitude", "serial_number": "$serial", "notes": "$notes"}"""
        // SQLite's write-ahead log reuses its space until it must grow: within a few hundred
        // writes of 9 kB one must, and that write is refused.
        var written = 0
        var raised: RehomeException.Unavailable? = null
        for (i in 0 until 600) {
            try {
                store.createDevice(system, device("SN-FULL-$i"))
                written++
            } catch (e: RehomeException.Unavailable) {
                raised = e
                break
            }
        }
        check("a write on a full disk is Unavailable", raised != null) { "$written writes all succeeded" }
        check("Unavailable says what the store reported", raised?.detail?.isNotEmpty() == true)
        checkEq("reads go on on a full disk", store.getDonor(system, donor.donorId).email, "ada@example.org")
        java.io.File(dir, "filler").delete()
        store.createDevice(system, device("SN-AFTER"))
        checkEq("with room again the write succeeds", store.listDevices(system).count, (written + 1).toULong())
        store.close()
    } catch (e: RehomeException) {
        check("a full disk raises only Unavailable", false) { "${e::class.simpleName}: ${e.message}" }
    } finally {
        ProcessBuilder("umount", "-l", dir.path).start().waitFor()
        dir.delete()
    }
}
