/**
 * A Deployment whose every user-chosen text is markup: namespace, name, container name, env name, image, so an
 * HTML report must escape all of them (the API server would refuse most of these names; files need not).
 * It has findings (no readiness probe, no preStop, a literal secret) and fixes, so every part of the page shows
 * input text.
 */
export const HOSTILE = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: "<img src=x onerror=alert(1)>"
  namespace: "<script>alert('ns')</script>"
spec:
  replicas: 2
  selector: {matchLabels: {app: evil}}
  template:
    metadata: {labels: {app: evil}}
    spec:
      containers:
        - name: "</td><script>alert(2)</script>"
          image: "registry.example/<script>alert(3)</script>:1.0"
          ports:
            - containerPort: 8080
          env:
            - name: "<script>alert(4)</script>_PASSWORD"
              value: "hunter2"
---
apiVersion: v1
kind: Service
metadata:
  name: evil
  namespace: "<script>alert('ns')</script>"
spec:
  selector: {app: evil}
  ports: [{port: 80, targetPort: 8080}]
`;
