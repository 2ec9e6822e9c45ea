// Starts DynamoDB Local bound to 127.0.0.1 only. The jar has no host option (its
// Jetty server is built from a port alone and listens on every interface), so this
// builds the server exactly as `java -jar DynamoDBLocal.jar ARGS` does, sets the
// host of its connector, then starts it. Compiled by scripts/emulators.sh into
// var/emulators/loopback/ when javac is present; tested with DynamoDB Local 1.25.1.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public class DynamoDBLocalLoopback {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("relance.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    if (proxy == null) {
      return; // -help or -version: already printed
    }
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
    proxy.join();
  }
}
