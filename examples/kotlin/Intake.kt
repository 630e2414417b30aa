// Embedding rehome in a Kotlin program with coroutines: take a donated phone in and ship it.
// No server runs: the calls go to rehome's core through rehome.jar, with the same rules as the
// REST server. Build and run (see the README's Kotlin section):
//
//   kotlinc -cp rehome.jar:jna.jar:kotlinx-coroutines-core-jvm.jar Intake.kt -d intake.jar
//   java -cp intake.jar:rehome.jar:jna.jar:kotlinx-coroutines-core-jvm.jar:kotlin-stdlib.jar IntakeKt sqlite://rehome-example.db
import kotlinx.coroutines.runBlocking
import org.rehome.Caller
import org.rehome.DeviceStatus
import org.rehome.Rehome
import org.rehome.RehomeException

const val PASSWORD = "correct horse battery staple"

fun main(args: Array<String>) = runBlocking {
    val url = args.firstOrNull() ?: "sqlite://rehome-example.db"
    val store = Rehome.open(url) // suspend: every call of Rehome is; RehomeBlocking blocks
    val operator = Caller.system()
    println("opened $url")

    try {
        store.createUser(operator, """{"username": "kim", "email": "kim@example.org", "password": "$PASSWORD",
            "permissions": ["readDevices", "createDevices", "editDevices", "manageShipments"]}""")
        println("created user kim")
    } catch (e: RehomeException.Conflict) {
        println("kim exists already")
    }

    val kim = store.signIn("kim", PASSWORD)
    val serial = "KT-%04d".format(store.listDevices(kim).count.toLong() + 1)
    val phone = store.createDevice(kim, """{"type": "Smartphone", "make": "Fairphone", "model": "5", "serial_number": "$serial"}""")
    println("kim took in ${phone.make} ${phone.model} $serial: ${phone.status}")

    try {
        store.updateDevice(kim, phone.deviceId, """{"status": "ready"}""")
        error("a phone that was not wiped must not be ready")
    } catch (e: RehomeException.Validation) {
        println("marking it ready unwiped: ${e.fields["status"]?.first()}")
    }

    store.updateDevice(kim, phone.deviceId, """{"status": "wiped"}""")
    val shipment = store.createShipment(kim, """{"date_shipped": "2026-06-01", "tracking_identifier": "TRK-$serial"}""")
    val shipped = store.updateDevice(
        kim, phone.deviceId,
        """{"status": "shipped", "shipping_infos": [${shipment.shippingId}]}""",
        ifMatch = 2uL, // the version kim read: a concurrent change would be PreconditionFailed
    )
    check(shipped.status == DeviceStatus.SHIPPED && shipped.version == 3uL) { "unexpected: $shipped" }
    println("kim wiped and shipped it (version ${shipped.version})")

    val inTransit = store.listDevices(kim, mapOf("status" to "shipped"))
    println("shipped devices: ${inTransit.count}")
    for (event in store.listAudit(operator, mapOf("object_id" to phone.deviceId)).results) {
        println("  ${event.timestamp} ${event.action} by ${event.actorUsername}")
    }
}
