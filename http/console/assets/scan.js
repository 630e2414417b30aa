// The camera for scan inputs (rehome console). Every `input[data-scan]` gets a "Use camera"
// button when the browser offers a camera (navigator.mediaDevices exists only in a secure
// context: HTTPS or localhost). The video is decoded continuously with ZXing (QR, Code 128,
// Code 39); the first code read fills the input and sends its form. Without a camera or
// without this script the input works as it is: a barcode scanner types and presses Enter.
(function () {
  "use strict";

  var Z = window.ZXing;
  if (!Z || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }

  // Frames are decoded at most this wide (smaller is faster; labels fill much of the view).
  var MAX_WIDTH = 800;

  function newReader() {
    var hints = new Map();
    hints.set(Z.DecodeHintType.POSSIBLE_FORMATS, [
      Z.BarcodeFormat.QR_CODE,
      Z.BarcodeFormat.CODE_128,
      Z.BarcodeFormat.CODE_39,
    ]);
    hints.set(Z.DecodeHintType.TRY_HARDER, true);
    var reader = new Z.MultiFormatReader();
    reader.setHints(hints);
    return reader;
  }

  function enhance(input) {
    var field = input.closest(".field") || input.parentNode;
    var start = document.createElement("button");
    start.type = "button";
    start.className = "secondary camera-start";
    start.textContent = "Use camera";

    var panel = document.createElement("div");
    panel.className = "camera";
    panel.hidden = true;
    var video = document.createElement("video");
    video.muted = true;
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-label", "Camera view");
    var status = document.createElement("p");
    status.className = "muted camera-status";
    status.setAttribute("role", "status");
    var stop = document.createElement("button");
    stop.type = "button";
    stop.className = "secondary camera-stop";
    stop.textContent = "Stop camera";
    panel.appendChild(video);
    panel.appendChild(status);
    panel.appendChild(stop);

    field.appendChild(start);
    field.appendChild(panel);

    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var reader = newReader();
    var stream = null;
    var timer = null;

    function halt() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        stream = null;
      }
      video.srcObject = null;
      panel.hidden = true;
      start.hidden = false;
    }

    function decodeFrame() {
      timer = null;
      if (!stream) {
        return;
      }
      var w = video.videoWidth;
      var h = video.videoHeight;
      if (w > 0 && h > 0) {
        var scale = Math.min(1, MAX_WIDTH / w);
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        try {
          var source = new Z.HTMLCanvasElementLuminanceSource(canvas);
          var bitmap = new Z.BinaryBitmap(new Z.HybridBinarizer(source));
          // With the hints set once (setHints), not decode()'s, which would reset them.
          var result = reader.decodeWithState(bitmap);
          var text = result.getText();
          if (text) {
            halt();
            input.value = text;
            status.textContent = "Read: " + text;
            var form = input.form;
            if (form) {
              if (form.requestSubmit) {
                form.requestSubmit();
              } else {
                form.submit();
              }
            }
            return;
          }
        } catch (e) {
          // No code in this frame (NotFound, checksum or format errors): try the next one.
        } finally {
          reader.reset();
        }
      }
      timer = setTimeout(decodeFrame, 150);
    }

    start.addEventListener("click", function () {
      status.textContent = "Starting the camera…";
      panel.hidden = false;
      start.hidden = true;
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          return video.play();
        })
        .then(function () {
          status.textContent = "Point the camera at a label or barcode.";
          decodeFrame();
        })
        .catch(function (e) {
          halt();
          start.hidden = true;
          var p = document.createElement("p");
          p.className = "error";
          p.textContent =
            "The camera could not be used (" + (e && e.name ? e.name : "error") +
            "). Type the code or use a barcode scanner.";
          field.appendChild(p);
        });
    });
    stop.addEventListener("click", halt);
    window.addEventListener("pagehide", halt);
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-scan]");
    for (var i = 0; i < inputs.length; i++) {
      enhance(inputs[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
