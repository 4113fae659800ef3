package io.vqdistill.backend.tensorflow;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;

import io.vqdistill.api.BackendException;
import io.vqdistill.api.Device;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * Lists the devices TensorFlow sees. TensorFlow Java 1.1.0 has no public call for this, so it goes
 * through the C API the jar exposes ({@code TF_SessionListDevices}) on a throw-away session with
 * the backend's configuration; every native object is freed before returning.
 */
final class TfDevices {
    private TfDevices() {
    }

    /** The CPU, then every GPU in ordinal order; other device types (e.g. XLA) are skipped. */
    static List<Device> list(ConfigProto config) {
        List<Device> gpus = new ArrayList<>();
        // every native object created below attaches to this scope and is freed when it closes
        PointerScope scope = new PointerScope();
        try {
            TF_Status status = TF_Status.newStatus();
            TF_SessionOptions opts = TF_SessionOptions.newSessionOptions();
            BytePointer bytes = new BytePointer(config.toByteArray());
            TF_SetConfig(opts, bytes, bytes.capacity(), status);
            status.throwExceptionIfNotOK();
            TF_Graph graph = TF_Graph.newGraph();
            // the scope closes the session before the graph: it frees in reverse order of creation
            TF_Session session = TF_Session.newSession(graph, opts, status);
            status.throwExceptionIfNotOK();
            TF_DeviceList devices = TF_SessionListDevices(session, status);
            status.throwExceptionIfNotOK();
            try {
                int n = TF_DeviceListCount(devices);
                for (int i = 0; i < n; i++) {
                    String type = TF_DeviceListType(devices, i, status).getString();
                    status.throwExceptionIfNotOK();
                    String name = TF_DeviceListName(devices, i, status).getString();
                    status.throwExceptionIfNotOK();
                    if (type.equalsIgnoreCase("GPU")) {
                        gpus.add(Device.gpu(ordinal(name)));
                    }
                }
            } finally {
                TF_DeleteDeviceList(devices);
            }
        } finally {
            scope.close();
        }
        gpus.sort((a, b) -> Integer.compare(a.index(), b.index()));
        List<Device> all = new ArrayList<>();
        all.add(Device.CPU);
        all.addAll(gpus);
        return all;
    }

    /** The ordinal at the end of a name such as {@code /job:localhost/replica:0/task:0/device:GPU:1}. */
    static int ordinal(String deviceName) {
        int colon = deviceName.lastIndexOf(':');
        try {
            return Integer.parseInt(deviceName.substring(colon + 1).trim());
        } catch (NumberFormatException e) {
            throw new BackendException("unexpected TensorFlow device name '" + deviceName + "'", e);
        }
    }
}
